// Chat as alice: each line of stdin is posted through the simulator; the transcript poller prints
// the replies as they arrive. In a terminal, Ctrl-D or Ctrl-C ends the chat at once; from a pipe,
// end of input waits (up to `drainMs`) for the answers to what was sent, then ends.
import readline from "node:readline";
import { SIM_BOT } from "../../tests/e2e/gateway.mjs";
import { DM_ALICE, GENERAL, OPS } from "../../tests/e2e/simulator.mjs";

const CHANNELS = { "#general": GENERAL, "#ops-team": OPS, "#ops": OPS };

export const CHAT_HELP = [
  "You are alice. A line is a DM to mybot; \"#general text\" (or \"#ops-team text\") posts in that room,",
  "where mybot answers only when mentioned (@mybot). Ctrl-D or Ctrl-C stops everything.",
];

// Where a typed line goes, and whether mybot is expected to answer it.
export function route(line) {
  const m = line.match(/^(#[\w-]+)\s+([\s\S]+)$/);
  if (m && CHANNELS[m[1]]) return { rid: CHANNELS[m[1]], text: m[2], expectAnswer: m[2].includes(`@${SIM_BOT.username}`) };
  return { rid: DM_ALICE, text: line, expectAnswer: true };
}

// Resolves when the chat is over: "interrupted" (Ctrl-C) or "eof".
export function chat(sim, transcript, { input = process.stdin, output = process.stdout, drainMs = 90000 } = {}) {
  const terminal = Boolean(input.isTTY);
  const rl = readline.createInterface({ input, output, terminal, prompt: "alice> " });
  // Replies arrive while the user types: print them above the prompt, then redraw it.
  transcript.print = (line) => {
    if (terminal) {
      readline.clearLine(output, 0);
      readline.cursorTo(output, 0);
    }
    output.write(`${line}\n`);
    if (terminal) rl.prompt(true);
  };
  let posted = Promise.resolve(); // one post at a time, in input order (a pipe delivers all lines at once)
  const pending = []; // { rid, after } for each posted line mybot should answer
  const answered = (p) => transcript.messages.some((m) => m.u?.username === SIM_BOT.username && m.rid === p.rid && m.ts > p.after);

  return new Promise((resolve) => {
    let done = false;
    const finish = (how) => {
      if (done) return;
      done = true;
      rl.close();
      resolve(how);
    };
    const post = async (r) => {
      try {
        const { message } = await sim.post("alice", r.rid, r.text);
        if (r.expectAnswer) pending.push({ rid: r.rid, after: message.ts });
        else transcript.print(`(no @${SIM_BOT.username} mention: in a channel mybot answers mentions only)`);
      } catch (e) {
        transcript.print(`post failed: ${e.message}`);
      }
    };
    rl.on("line", (raw) => {
      const line = raw.trim();
      if (line) posted = posted.then(() => post(route(line)));
      else if (terminal) rl.prompt();
    });
    rl.on("SIGINT", () => finish("interrupted")); // a terminal's Ctrl-C while reading
    rl.on("close", async () => {
      if (!terminal) {
        await posted;
        const end = Date.now() + drainMs;
        while (pending.some((p) => !answered(p)) && Date.now() < end) await new Promise((r) => setTimeout(r, 300));
      }
      finish("eof");
    });
    if (terminal) rl.prompt();
  });
}
