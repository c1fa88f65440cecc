#!/usr/bin/env node
// The simulator's chat view (/view) in headless Chromium, against the simulator alone (no gateway;
// the bot is played over REST and its own DDP socket): what the page shows and does, on the 8.x and
// 6.x profiles. e2e.mjs `web_view` covers the page with the real bot answering.
//
//   node tests/e2e/web-view.mjs [--sim-bin PATH]
//
// Needs tests/e2e/setup.sh (playwright-core, chromium) and `cargo build -p rocketchat-sim`.
// Screenshots: target/e2e-artefacts/web-view-thread-<profile>.png (or $E2E_ARTEFACTS).
import { mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { launchBrowser } from "./browser.mjs";
import { openclawDir, root as repoRoot } from "./gateway.mjs";
import { GENERAL, defaultSimBin, startSimulator } from "./simulator.mjs";

// Node 20 has no WebSocket global: the `ws` package OpenClaw installed stands in.
const WS = globalThis.WebSocket ?? createRequire(path.join(openclawDir, "node_modules/openclaw/package.json"))("ws");

const argv = process.argv.slice(2);
const simBin = argv.includes("--sim-bin") ? argv[argv.indexOf("--sim-bin") + 1] : defaultSimBin();
const ARTEFACTS = process.env.E2E_ARTEFACTS ?? path.join(process.env.CARGO_TARGET_DIR ?? path.join(repoRoot, "target"), "e2e-artefacts");
const BOT = { id: "Bq7dYg4KxWnZcT3rA", token: "9HqLlyZOugoStsXCUfD_0YdwnNnunAJF8V47U3QHXSq" };
let checks = 0;

async function run(profile) {
  const sim = await startSimulator({ bin: simBin, args: ["--profile", profile] });
  const b = await launchBrowser();
  const { page } = b;
  const ok = (m) => { checks++; console.log(`ok   ${profile}.x: ${m}`); };
  const botApi = async (route, body) => {
    const r = await fetch(`${sim.url}/api/v1/${route}`, { method: "POST", headers: { "X-User-Id": BOT.id, "X-Auth-Token": BOT.token, "content-type": "application/json" }, body: JSON.stringify(body) });
    return r.json();
  };
  // The bot's DDP socket, for its typing.
  const ws = new WS(sim.wsUrl);
  let seq = 0;
  const call = (method, ...params) => ws.send(JSON.stringify({ msg: "method", id: String(++seq), method, params }));
  await new Promise((r, j) => { ws.addEventListener("open", r); ws.addEventListener("error", j); });
  ws.send(JSON.stringify({ msg: "connect", version: "1", support: ["1"] }));
  ws.addEventListener("message", (e) => JSON.parse(e.data).msg === "ping" && ws.send('{"msg":"pong"}'));
  call("login", { resume: BOT.token });
  try {
    await page.goto(`${sim.viewUrl}?as=bob`);
    await page.waitForSelector("#status:has-text('connected as bob')", { timeout: 30000 });
    const rooms = await page.$$eval(".room", (els) => els.map((e) => e.textContent));
    if (rooms.join(" | ") !== "# general | # random") throw new Error(`bob's rooms: ${rooms.join(" | ")}`);
    ok(`bob's rooms: ${rooms.join(" | ")}`);
    // The bot opens a DM with bob: the room appears.
    const dm = await botApi("im.create", { username: "bob" });
    const dmRid = dm.room?._id ?? dm.room?.rid;
    await page.waitForSelector(`.room[data-rid="${dmRid}"]`, { timeout: 30000 });
    ok(`new DM ${dmRid} appeared`);
    await page.click(`.room[data-rid="${GENERAL}"]`);
    const root = (await sim.post("alice", GENERAL, "root for a thread")).message;
    await page.waitForSelector(`.msg[data-id="${root._id}"]`);
    await page.hover(`.msg[data-id="${root._id}"]`);
    await page.click(`.msg[data-id="${root._id}"] .actions button:has-text("reply in thread")`);
    await page.fill("#thread-composer textarea", "bob replies in the thread");
    await page.press("#thread-composer textarea", "Enter");
    await page.waitForSelector(`#thread-messages .msg:has-text("bob replies in the thread")`, { timeout: 30000 });
    const rep = (await sim.messages(GENERAL, "bob")).messages.at(-1);
    if (rep.tmid !== root._id) throw new Error(`reply tmid ${rep.tmid}`);
    ok("thread reply posted with tmid");
    await page.waitForSelector(`.msg[data-id="${root._id}"] .replies:has-text("1 reply")`);
    ok("root shows 1 reply");
    // Bot typing in the thread.
    call("stream-notify-room", `${GENERAL}/user-activity`, "mybot", ["user-typing"], { tmid: root._id });
    await page.waitForFunction(() => /mybot is typing/.test(document.getElementById("thread-typing").textContent), null, { timeout: 30000 });
    ok(`thread typing: main "${await page.textContent("#typing")}", thread "${await page.textContent("#thread-typing")}"`);
    await page.screenshot({ path: path.join(ARTEFACTS, `web-view-thread-${profile}.png`) });
    call("stream-notify-room", `${GENERAL}/user-activity`, "mybot", [], { tmid: root._id });
    await page.waitForFunction(() => !document.getElementById("thread-typing").textContent, null, { timeout: 30000 });
    ok("typing stopped");
    // React from the page.
    await page.hover(`.msg[data-id="${root._id}"]`);
    await page.click(`.msg[data-id="${root._id}"] .actions button[title="react :thumbsup:"]`);
    await page.waitForSelector(`.msg[data-id="${root._id}"] .reaction.mine`, { timeout: 30000 });
    ok("reaction added from the page");
    await page.click(`.msg[data-id="${root._id}"] .reaction.mine`);
    await page.waitForFunction((id) => !document.querySelector(`.msg[data-id="${id}"] .reaction`), root._id, { timeout: 30000 });
    ok("reaction removed from the page");
    // Upload from the page.
    await page.setInputFiles("#composer input[type=file]", { name: "hello.txt", mimeType: "text/plain", buffer: Buffer.from("hi there") });
    await page.waitForSelector(`#messages .attachment:has-text("hello.txt")`, { timeout: 30000 });
    const href = await page.getAttribute(`#messages .attachment a`, "href");
    const dl = await page.evaluate(async (h) => (await fetch(h)).text(), href);
    if (dl !== "hi there") throw new Error(`download ${dl}`);
    ok("upload from the page, download link works");
    // Edit and delete.
    await sim.control("edit", { msgId: root._id, msg: "root for a thread, edited" });
    await page.waitForSelector(`.msg[data-id="${root._id}"] .edited`, { timeout: 30000 });
    ok("edit marked");
    const gone = (await sim.post("alice", GENERAL, "to be deleted")).message;
    await page.waitForSelector(`.msg[data-id="${gone._id}"]`);
    await sim.control("delete", { user: "alice", msgId: gone._id, rid: GENERAL });
    await page.waitForFunction((id) => !document.querySelector(`.msg[data-id="${id}"]`), gone._id, { timeout: 30000 });
    ok("delete removed");
    // Dropped sockets: reconnects, and what was posted meanwhile shows.
    const sessions = Number(await page.getAttribute("#status", "data-connections"));
    await sim.control("faults", { kind: "dropSockets" });
    await sim.post("alice", GENERAL, "posted around the drop");
    await page.waitForFunction((n) => Number(document.getElementById("status").dataset.connections) > n, sessions, { timeout: 30000 });
    await page.waitForSelector(`.msg:has-text("posted around the drop")`, { timeout: 30000 });
    await page.waitForSelector("#status:has-text('connected as bob')", { timeout: 30000 });
    ok("reconnected after dropSockets; what was posted meanwhile shows");
    await sim.post("alice", GENERAL, "after reconnect");
    await page.waitForSelector(`.msg:has-text("after reconnect")`, { timeout: 30000 });
    const shown = await page.$$eval(`#messages .msg`, (els) => els.length);
    ok(`live after the reconnect (${shown} messages in view)`);
  } catch (e) {
    await page.screenshot({ path: path.join(ARTEFACTS, `web-view-failed-${profile}.png`) }).catch(() => {});
    throw new Error(`${profile}.x: ${e.message}\npage console: ${b.logs.slice(-20).join(" | ")}`);
  } finally {
    ws.close();
    await b.close();
    await sim.stop();
  }
}

const t0 = performance.now();
mkdirSync(ARTEFACTS, { recursive: true });
let failed = 0;
for (const profile of ["8", "6"]) {
  try {
    await run(profile);
  } catch (e) {
    failed++;
    console.log(`FAIL ${e.message}`);
  }
}
console.log(`${failed ? "web view FAILED" : "web view ok"}: ${checks} checks in ${Math.round(performance.now() - t0)} ms`);
process.exit(failed ? 1 : 0);
