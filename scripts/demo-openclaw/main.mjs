#!/usr/bin/env node
// The main job (`scripts/demo`): a real OpenClaw gateway with this project's plugin, packed and
// installed the way users install it, answering in the bundled Rocket.Chat simulator; the agent's
// model is the canned fake model unless OPENAI_BASE_URL points at a real one (model.mjs).
//
//   scripts/demo [--once] [--port N] [--keep] [--timeout S]
//     --once    run the scripted conversation only; exit 0 only if mybot answered every step
//     --port N  simulator port (default: any free one), so other clients can join
//     --keep    keep OpenClaw's temporary state dir (config, logs, sessions) after exit
//     --timeout S  how long each scripted message may wait for its answer (default 90 s)
//
// It prints the address of the simulator's chat view (http://127.0.0.1:PORT/view) first: open it
// in a browser to watch the bot answer as in a Rocket.Chat client, and to post as alice or bob.
//
// Runs with the Node 24 that tests/e2e/setup.sh installs; scripts/demo builds and installs first.
import {
  createStateDir, freePort, installPlugin, killAllChildren, packPlugin, rocketchatSection, startGateway, waitChannelConnected,
} from "../../tests/e2e/gateway.mjs";
import { startSimulator } from "../../tests/e2e/simulator.mjs";
import { chat, CHAT_HELP } from "./chat.mjs";
import { startModel } from "./model.mjs";
import { runScript } from "./script.mjs";
import { Transcript } from "./transcript.mjs";

const argv = process.argv.slice(2);
const once = argv.includes("--once");
let keep = argv.includes("--keep");
const numberOpt = (name, dflt) => {
  const i = argv.indexOf(name);
  if (i < 0) return dflt;
  const n = Number(argv[i + 1]);
  if (!Number.isInteger(n) || n < 0 || n > 65535) usage(`${name} needs a number, got ${argv[i + 1]}`);
  return n;
};
const simPort = numberOpt("--port", 0);
const replyTimeoutMs = numberOpt("--timeout", 90) * 1000;
for (const [i, a] of argv.entries()) {
  if (a === "-h" || a === "--help") usage();
  if (!["--once", "--keep", "--port", "--timeout"].includes(a) && !["--port", "--timeout"].includes(argv[i - 1])) usage(`unknown argument ${a}`);
}

function usage(problem) {
  const text = "usage: scripts/demo [--once] [--port N] [--keep] [--timeout S]   (scripts/demo --core: the bot on the Rust core alone)";
  if (problem) console.error(`scripts/demo: ${problem}\n${text}`);
  else console.log(text);
  process.exit(problem ? 2 : 0);
}

const t0 = performance.now();
const secs = (t = t0) => `${((performance.now() - t) / 1000).toFixed(1)} s`;
const step = (what) => process.stdout.write(`${what} … `);

// Everything started so far, stopped in reverse order; also on Ctrl-C/SIGTERM mid-setup.
let sim, model, state, pack, gw, transcript;
let stopping = null;
function shutdown(code, why) {
  if (stopping) {
    killAllChildren(); // a second Ctrl-C: no more waiting
    process.exit(code);
  }
  if (why) console.log(`\n${why}`);
  stopping = (async () => {
    transcript?.stop();
    const t = performance.now();
    await gw?.stop().catch(() => {});
    await model?.stop().catch(() => {});
    await sim?.stop().catch(() => {});
    killAllChildren(); // whatever was still starting (an `openclaw` CLI call, a gateway not yet ready)
    pack?.remove();
    if (state && keep) console.log(`kept OpenClaw state dir ${state.stateDir} (gateway log ${state.config.logging.file})`);
    else state?.remove();
    console.log(`stopped gateway, model and simulator in ${secs(t)}`);
    process.exit(code);
  })();
  return stopping;
}
for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"]) process.on(sig, () => shutdown(130, `${sig}: stopping`));

try {
  sim = await startSimulator({ port: simPort });
  model = await startModel();
  console.log(`Rocket.Chat simulator  ${sim.url}   (bot mybot; humans alice, bob)`);
  console.log(`watch the chat in a browser: ${sim.viewUrl}?as=alice   (or ?as=bob; type there to post as them)`);
  console.log(`model                  ${model.describe}`);

  state = createStateDir({ modelBaseUrl: model.baseUrl, port: await freePort(), extraConfig: model.extraConfig, prefix: "openclaw-demo-" });
  console.log(`OpenClaw state dir     ${state.stateDir}`);
  console.log(`gateway log            ${state.config.logging.file}`);

  let t = performance.now();
  step("packing npm/ and installing it (openclaw plugins install)");
  pack = packPlugin();
  await installPlugin(state, pack.tgz);
  console.log(secs(t));

  t = performance.now();
  step("configuring channels.rocketchat for mybot (openclaw config patch)");
  await state.setRocketchat(rocketchatSection(sim.url));
  console.log(secs(t));

  t = performance.now();
  step("starting the OpenClaw gateway (15-40 s)");
  gw = await startGateway(state);
  console.log(`ready, ${secs(t)}`);

  t = performance.now();
  step("waiting for mybot to connect");
  await waitChannelConnected(state, gw);
  console.log(`connected, ${secs(t)}\n`);
} catch (e) {
  console.log(`\nscripts/demo: setup failed: ${e.message}`);
  await shutdown(1);
}

transcript = new Transcript(sim);
transcript.start();
const tScript = performance.now();
const failures = await runScript(sim, transcript, { fakeModel: model.fake, timeoutMs: replyTimeoutMs });
if (failures.length) {
  console.log(`\nNOT answered (${failures.length}):`);
  for (const f of failures) console.log(`  ${f}`);
  keep = true; // the gateway log says why
} else {
  console.log(`\nscripted conversation: every message answered by mybot in its room/thread (${secs(tScript)})`);
}

if (once) await shutdown(failures.length ? 1 : 0);

console.log(`
Join from anywhere on this machine:
  curl -s -XPOST ${sim.url}/_sim/post -H 'content-type: application/json' -d '{"user":"bob","rid":"GENERAL","msg":"hi @mybot"}'
  curl -s '${sim.url}/_sim/messages?user=mybot'
${CHAT_HELP.join("\n")}`);
const how = await chat(sim, transcript);
await shutdown(0, how === "interrupted" ? "Ctrl-C: stopping" : "end of input: stopping");
