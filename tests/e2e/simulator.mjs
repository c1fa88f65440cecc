// The Rocket.Chat simulator (`rocketchat-sim`) as a child process, with a client for its control
// API (`/_sim/*`, ARCHITECTURE.md). Shared by e2e.mjs, scripts/demo-openclaw and bench/.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";
import { openclawDir, root, stopChild, track } from "./gateway.mjs";

// Seed rooms and users (the simulator's embedded default seed).
export const GENERAL = "GENERAL";
export const DM_ALICE = "Bq7dYg4KxWnZcT3rAk9ZfTqW2mHs8PxLcE"; // DM mybot + alice
export const OPS = "pX7aQmTz4cK9rWn2H"; // private group `ops-team`: mybot + alice
export const ALICE_ID = "k9ZfTqW2mHs8PxLcE";

export const defaultSimBin = () => process.env.ROCKETCHAT_SIM_BIN ?? path.join(process.env.CARGO_TARGET_DIR ?? path.join(root, "target"), "debug/rocketchat-sim");

// Start `rocketchat-sim --port N [...args]` (0: any free port) and wait for its ROCKETCHAT_SIM_URL line.
export async function startSimulator({ bin = defaultSimBin(), port = 0, args = [] } = {}) {
  if (!existsSync(bin)) throw new Error(`${bin} missing: cargo build -p rocketchat-sim (or pass --sim-bin)`);
  const child = track(spawn(bin, ["--port", String(port), ...args], { detached: true, stdio: ["ignore", "pipe", "pipe"] }));
  let err = "";
  child.stderr.on("data", (b) => (err = (err + b).slice(-4000)));
  const url = await new Promise((resolve, reject) => {
    let out = "";
    const t = setTimeout(() => reject(new Error(`simulator printed no URL in 15 s\n${err}`)), 15000);
    child.stdout.on("data", (b) => {
      out += b;
      const m = out.match(/ROCKETCHAT_SIM_URL=(\S+)/);
      if (m) { clearTimeout(t); resolve(m[1]); }
    });
    child.once("exit", (c) => { clearTimeout(t); reject(new Error(`simulator exited ${c}\n${err}`)); });
  });
  const api = async (method, route, body) => {
    const res = await fetch(`${url}${route}`, { method, headers: { "content-type": "application/json" }, body: body && JSON.stringify(body) });
    if (!res.ok) throw new Error(`${method} ${route}: ${res.status} ${await res.text()}`);
    return res.json();
  };
  const query = (params) => new URLSearchParams(Object.entries(params).filter(([, v]) => v)).toString();
  return {
    url,
    wsUrl: `${url.replace(/^http/, "ws")}/websocket`,
    // The chat view: a browser client of the simulator (`?as=alice` logs in as a seed user).
    viewUrl: `${url}/view`,
    // Any POST route of the control API, e.g. control("faults", {kind: "dropSockets"}).
    control: (route, body) => api("POST", `/_sim/${route}`, body),
    // POST /_sim/flood: resolves once the last message is published.
    flood: (spec) => api("POST", "/_sim/flood", spec),
    post: (user, rid, msg, extra = {}) => api("POST", "/_sim/post", { user, rid, msg, ...extra }),
    // Messages oldest first; every filter optional (no `rid`: all rooms).
    messages: (rid, user, since) => api("GET", `/_sim/messages?${query({ rid, user, since })}`),
    stop: () => stopChild(child, 3000),
  };
}

// Alice's login token in the default seed.
export const ALICE_TOKEN = "alice-token-000000000000000000000000000000";

// Alice uploads a file into `rid` the way her app does (rooms.media, then rooms.mediaConfirm).
export async function uploadAsAlice(sim, rid, { name, mime, bytes, msg = "" }) {
  const headers = { "X-Auth-Token": ALICE_TOKEN, "X-User-Id": ALICE_ID };
  const form = new FormData();
  form.append("file", new Blob([bytes], { type: mime }), name);
  const up = await fetch(`${sim.url}/api/v1/rooms.media/${rid}`, { method: "POST", headers, body: form });
  if (!up.ok) throw new Error(`rooms.media: ${up.status} ${await up.text()}`);
  const fileId = (await up.json()).file._id;
  const ok = await fetch(`${sim.url}/api/v1/rooms.mediaConfirm/${rid}/${fileId}`, {
    method: "POST",
    headers: { ...headers, "content-type": "application/json" },
    body: JSON.stringify({ msg }),
  });
  if (!ok.ok) throw new Error(`rooms.mediaConfirm: ${ok.status} ${await ok.text()}`);
  return (await ok.json()).message;
}

// A second client, as a person's Rocket.Chat app: logs in over DDP and records, with the time
// it saw them, the room's messages (with their thread `tmid`) and who is typing: `user-activity`
// (6.x+ servers; its third argument carries the thread's `tmid`) and, with `legacyTyping`, the
// `<rid>/typing` event 6.x apps still listen to (no thread there), recorded as `legacy: true`.
export async function watchRoom(wsUrl, token, rid, { legacyTyping = false } = {}) {
  // Node 20 has no WebSocket global: the `ws` package OpenClaw installed stands in.
  const WS = globalThis.WebSocket ?? createRequire(path.join(openclawDir, "node_modules/openclaw/package.json"))("ws");
  const ws = new WS(wsUrl);
  const events = [];
  const waiters = new Set();
  const record = (e) => {
    events.push({ ...e, at: performance.now() });
    for (const w of waiters) w();
  };
  ws.addEventListener("message", (m) => {
    const f = JSON.parse(String(m.data));
    if (f.msg === "ping") return ws.send(JSON.stringify({ msg: "pong" }));
    if (f.msg === "ready") return record({ kind: "ready", subs: f.subs });
    if (f.msg !== "changed") return;
    const [first, second] = f.fields?.args ?? [];
    if (f.collection === "stream-notify-room" && f.fields.eventName === `${rid}/user-activity`) {
      const tmid = f.fields.args[2]?.tmid;
      record({ kind: "typing", user: first, on: Array.isArray(second) && second.includes("user-typing"), tmid });
    } else if (f.collection === "stream-notify-room" && f.fields.eventName === `${rid}/typing`) {
      record({ kind: "typing", user: first, on: second === true, legacy: true });
    } else if (f.collection === "stream-room-messages" && first?.rid === rid) {
      record({ kind: "message", id: first._id, user: first.u?.username, text: first.msg ?? "", tmid: first.tmid, wall: Date.now() });
    }
  });
  await new Promise((resolve, reject) => {
    ws.addEventListener("open", resolve, { once: true });
    ws.addEventListener("error", () => reject(new Error(`cannot open ${wsUrl}`)), { once: true });
  });
  ws.send(JSON.stringify({ msg: "connect", version: "1", support: ["1"] }));
  ws.send(JSON.stringify({ msg: "method", method: "login", params: [{ resume: token }], id: "login" }));
  ws.send(JSON.stringify({ msg: "sub", id: "activity", name: "stream-notify-room", params: [`${rid}/user-activity`, false] }));
  ws.send(JSON.stringify({ msg: "sub", id: "messages", name: "stream-room-messages", params: [rid, false] }));
  if (legacyTyping) ws.send(JSON.stringify({ msg: "sub", id: "legacy-typing", name: "stream-notify-room", params: [`${rid}/typing`, false] }));
  const waitFor = (pred, timeoutMs, what) =>
    new Promise((resolve, reject) => {
      const check = () => {
        const found = events.find(pred);
        if (!found) return;
        waiters.delete(check);
        clearTimeout(timer);
        resolve(found);
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`${what} not seen within ${timeoutMs} ms; saw ${JSON.stringify(events)}`));
      }, timeoutMs);
      waiters.add(check);
      check();
    });
  await waitFor((e) => e.kind === "ready" && e.subs.includes("activity"), 15000, "the subscription");
  await waitFor((e) => e.kind === "ready" && e.subs.includes("messages"), 15000, "the subscription");
  if (legacyTyping) await waitFor((e) => e.kind === "ready" && e.subs.includes("legacy-typing"), 15000, "the legacy typing subscription");
  return { events, waitFor, close: () => ws.close() };
}
