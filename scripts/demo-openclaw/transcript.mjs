// The demo's view of the simulator: one poller over `/_sim/messages` (all rooms) that prints every
// new message as `[room] user: text` and lets callers wait for messages matching a predicate.
// Polling the simulator (not the gateway's log) means a line is printed only once the message is
// really in the chat server, in the room and thread shown.
import { DM_ALICE, GENERAL, OPS } from "../../tests/e2e/simulator.mjs";

const ROOMS = {
  [GENERAL]: "#general",
  [OPS]: "#ops-team",
  RandomRoom0000001: "#random",
  [DM_ALICE]: "DM alice",
  Bq7dYg4KxWnZcT3rAYh3nR6vPq2XzMt8Ws: "DM bob",
};

export const roomLabel = (m) => `${ROOMS[m.rid] ?? m.rid}${m.tmid ? " thread" : ""}`;

// One line per message: long or multi-line texts are cut, with their size shown.
export function formatMessage(m, width = 160) {
  const text = m.msg ?? "";
  const lines = text.split("\n");
  let shown = lines[0];
  if (shown.length > width) shown = `${shown.slice(0, width)}…`;
  const more = lines.length > 1 || text.length > width ? ` … (${text.length} chars, ${lines.length} lines)` : "";
  const file = m.file?.name ? ` [file ${m.file.name}, ${m.file.size} bytes]` : "";
  return `[${roomLabel(m)}] ${m.u?.username ?? "?"}: ${shown}${more}${file}`;
}

export class Transcript {
  constructor(sim, { print = console.log, intervalMs = 400 } = {}) {
    this.sim = sim;
    this.print = print;
    this.intervalMs = intervalMs;
    this.since = new Date().toISOString(); // the seed's older messages are not part of the show
    this.seen = new Set();
    this.messages = [];
    this.waiters = new Set();
    this.timer = null;
  }

  start() {
    const tick = async () => {
      try {
        await this.poll();
      } catch {
        // the simulator is local; a failed poll is simply retried on the next tick
      }
      if (this.timer) this.timer = setTimeout(tick, this.intervalMs);
    };
    this.timer = setTimeout(tick, 0);
  }

  stop() {
    clearTimeout(this.timer);
    this.timer = null;
    for (const w of this.waiters) w.finish();
  }

  async poll() {
    const { messages } = await this.sim.messages(undefined, undefined, this.since);
    for (const m of messages) {
      if (this.seen.has(m._id)) continue;
      this.seen.add(m._id);
      this.messages.push(m);
      this.print(formatMessage(m));
    }
    for (const w of this.waiters) w.check();
  }

  // Resolves with the messages matching `match` once `done(matches)` holds and no further match
  // arrived for `settleMs` (a long reply comes as several chunks), or at `timeoutMs` with what
  // matched so far (maybe nothing).
  waitFor(match, { done = (ms) => ms.length > 0, settleMs = 2500, timeoutMs = 90000 } = {}) {
    return new Promise((resolve) => {
      let count = -1;
      let settled = null;
      const w = {
        check: () => {
          const found = this.messages.filter(match);
          if (found.length === count) return;
          count = found.length;
          clearTimeout(settled);
          if (done(found)) settled = setTimeout(w.finish, settleMs);
        },
        finish: () => {
          clearTimeout(settled);
          clearTimeout(deadline);
          this.waiters.delete(w);
          resolve(this.messages.filter(match));
        },
      };
      const deadline = setTimeout(w.finish, timeoutMs);
      this.waiters.add(w);
      w.check();
    });
  }
}
