// The scripted conversation: alice talks to mybot in a DM, sends it a file, mentions it in
// #general after a talk with bob there, asks inside a thread, and asks for a long answer. Each
// step passes only when mybot's reply is in the simulator, in the room (and thread) the question
// was asked in; with the canned model, the file and history answers must also say what it read.
import { SIM_BOT } from "../../tests/e2e/gateway.mjs";
import { DM_ALICE, GENERAL, uploadAsAlice } from "../../tests/e2e/simulator.mjs";
import { FILE_PROMPT, HISTORY_PROMPT, LONG_PROMPT } from "./model.mjs";

const CHUNK_LIMIT = 4000; // the channel's default textChunkLimit

const PLAN = "Release 0.5 plan\n1. freeze the branch on monday\n2. test the migration\n3. ship on friday\n";

export const STEPS = [
  { name: "DM from alice", rid: DM_ALICE, text: "hi bot, are you there?" },
  {
    name: "file sent to mybot",
    rid: DM_ALICE,
    note: "alice sends mybot a text file; OpenClaw stores it and gives its text to the model",
    upload: { name: "release-plan.txt", mime: "text/plain", bytes: Buffer.from(PLAN) },
    text: FILE_PROMPT,
    expect: `release-plan.txt (text/plain, ${Buffer.byteLength(PLAN)} bytes, 4 lines) starts with "Release 0.5 plan"`,
  },
  { name: "mention in #general", rid: GENERAL, text: "hello @mybot, what's the status?" },
  {
    name: "group history",
    rid: GENERAL,
    // The demo lets everyone talk to mybot (groupPolicy open); with groupPolicy allowlist only the
    // messages of groupAllowFrom senders would reach it, in the history too.
    note: "alice and bob talk in #general without mentioning mybot, then alice asks it; everyone may talk to mybot here, so it sees both",
    before: [
      ["alice", "should we ship 0.5 on friday?"],
      ["bob", "only if the migration is tested by thursday"],
    ],
    text: HISTORY_PROMPT,
    expect: 'you were discussing "should we ship 0.5 on friday?" (2 messages, from Alice Doe and Bob Roe)',
  },
  {
    name: "mention in a thread",
    rid: GENERAL,
    threadRoot: "release 0.4 checklist: docs, changelog, tag", // no mention: the bot stays quiet
    text: "@mybot can you take the changelog?",
  },
  // With the fake model the answer is ~5 KB, so it must arrive as several chunks.
  { name: "long answer (chunked)", rid: DM_ALICE, text: LONG_PROMPT, chunked: true },
];

// Runs the steps one after the other; returns the names of those that failed, with why.
export async function runScript(sim, transcript, { fakeModel, timeoutMs = 90000 }) {
  const failures = [];
  for (const step of STEPS) {
    let tmid;
    if (step.note) transcript.print(`(${step.note})`);
    for (const [user, text] of step.before ?? []) await sim.post(user, step.rid, text);
    if (step.threadRoot) tmid = (await sim.post("alice", step.rid, step.threadRoot)).message._id;
    const asked = step.upload
      ? await uploadAsAlice(sim, step.rid, { ...step.upload, msg: step.text })
      : (await sim.post("alice", step.rid, step.text, tmid ? { tmid } : {})).message;
    const fromBot = (m) => m.u?.username === SIM_BOT.username && m.rid === step.rid && m.ts > asked.ts;
    // A chunked answer needs a moment to arrive in full; other replies are one message.
    const settleMs = step.chunked ? 2500 : 800;
    const replies = await transcript.waitFor((m) => fromBot(m) && (m.tmid ?? null) === (tmid ?? null), { timeoutMs, settleMs });
    const why = problem(step, replies, { fakeModel, elsewhere: transcript.messages.filter(fromBot).length });
    if (why) failures.push(`${step.name} (alice: "${step.text}"): ${why}`);
  }
  return failures;
}

function problem(step, replies, { fakeModel, elsewhere }) {
  if (!replies.length) {
    return elsewhere ? "mybot answered, but not in the thread" : "no answer from mybot";
  }
  // OpenClaw posts model failures into the chat as "⚠️ …": seen, but not an answer.
  if (replies.every((m) => m.msg.startsWith("⚠️"))) return `mybot posted only an error: ${JSON.stringify(replies[0].msg.slice(0, 200))}`;
  // What the canned model read from the request; a real model words it its own way.
  if (fakeModel && step.expect && !replies.some((m) => m.msg === step.expect)) {
    return `expected ${JSON.stringify(step.expect)}, got ${JSON.stringify(replies.map((m) => m.msg.slice(0, 200)))}`;
  }
  if (!step.chunked) return null;
  const sizes = replies.map((m) => m.msg.length);
  if (sizes.some((n) => n > CHUNK_LIMIT)) return `a chunk is over ${CHUNK_LIMIT} chars: ${sizes.join("+")}`;
  // A real model may well answer in fewer than 4000 chars; only the canned answer must be split.
  if (fakeModel && replies.length < 2) return `expected the ~5 KB answer in at least 2 messages, got ${sizes.join("+")} chars`;
  return null;
}
