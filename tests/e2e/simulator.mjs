// The Rocket.Chat simulator (`rocketchat-sim`) as a child process, with a client for its control
// API (`/_sim/*`, ARCHITECTURE.md). Shared by e2e.mjs, scripts/demo-openclaw and bench/.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { root, stopChild, track } from "./gateway.mjs";

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
