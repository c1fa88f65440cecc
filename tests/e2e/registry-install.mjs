#!/usr/bin/env node
// Installing the plugin by name from a registry: the cases that need no gateway (e2e.mjs installs
// the current release by name and has it answer in the simulator). Each uses a fresh state dir whose
// ~/.npmrc names a local registry (registry.mjs) and the simulator's seed bot.
//   0. the packed tarball (`npm pack npm/`, this platform's core bundled) with `plugins install <tgz>`:
//      installed and loaded;
//   1. no platform package: the main package published alone installs, and the first use of the
//      channel (`message send`) fails with the error naming the missing package;
//   2. upgrade in place: the previous version installed by name and configured, the current one
//      published, `openclaw plugins update rocketchat`: the config is kept, npm's project holds the
//      current version, and `message send` through the upgraded plugin arrives in the simulator.
//
//   node tests/e2e/registry-install.mjs [--sim-bin PATH]
import { createStateDir, freePort, installPlugin, openclaw, packPlugin, rocketchatSection } from "./gateway.mjs";
import { CURRENT_VERSION, PLUGIN_NAME, installedVersions, publishRelease, startRegistry, userNpmrc } from "./registry.mjs";
import { GENERAL, defaultSimBin, startSimulator } from "./simulator.mjs";
import { platformTriple } from "../../npm/src/native.js";

const argv = process.argv.slice(2);
const simBin = argv.includes("--sim-bin") ? argv[argv.indexOf("--sim-bin") + 1] : defaultSimBin();
const PLATFORM_PACKAGE = `${PLUGIN_NAME}-${platformTriple()}`;

// The release before this one: one step down in the last non-zero part (0.4.0 -> 0.3.0).
function previousVersion(v) {
  const [major, minor, patch] = v.split(/[.-]/).map(Number);
  return patch ? `${major}.${minor}.${patch - 1}` : minor ? `${major}.${minor - 1}.0` : `${major - 1}.0.0`;
}

const t0 = performance.now();
let failed = 0;
const cleanup = [];
async function step(name, fn) {
  const t = performance.now();
  try {
    console.log(`ok   ${name}: ${await fn()} (${Math.round(performance.now() - t)} ms)`);
  } catch (e) {
    failed++;
    console.log(`FAIL ${name}: ${e.message}`);
  }
}
const fresh = async (reg) => {
  const state = createStateDir({ modelBaseUrl: "http://127.0.0.1:9/v1", port: await freePort(), prefix: "openclaw-registry-" });
  cleanup.push(() => state.remove());
  delete state.env.ROCKETCHAT_NODE_BINDING; // the core must come from what npm installed
  if (reg) userNpmrc(state, reg);
  return state;
};
let sim;
async function arrived(text, since) {
  const end = Date.now() + 30000;
  while (!(await sim.messages(GENERAL, "mybot", since)).messages.some((m) => m.msg === text)) {
    if (Date.now() > end) throw new Error(`"${text}" not in #general after message send exited 0`);
    await new Promise((res) => setTimeout(res, 500));
  }
}
const send = (state, text) => openclaw(state.env, ["message", "send", "--channel", "rocketchat", "--target", "channel:GENERAL", "--message", text]);

try {
  sim = await startSimulator({ bin: simBin });
  cleanup.push(() => sim.stop());

  // Independent cases (a state dir and registry each): at the same time, to spare CI minutes.
  await Promise.all([step("plugins install <packed tarball>", async () => {
    const pack = packPlugin();
    cleanup.push(() => pack.remove());
    const state = await fresh(null); // npm's own configuration, as plugin-load.mjs has it
    const inst = await installPlugin(state, pack.tgz);
    if (!/Installed plugin: rocketchat/.test(inst.stdout)) throw new Error(`plugins install: ${inst.stdout}\n${inst.stderr}`);
    // That the bundled core loads is npm/scripts/test-offline-install.sh's; here, that OpenClaw loads the plugin.
    const list = await openclaw(state.env, ["plugins", "list", "--json"]);
    const entry = JSON.parse(list.stdout).plugins.find((p) => p.id === "rocketchat");
    if (!(entry?.enabled === true && ["enabled", "loaded"].includes(entry?.status))) throw new Error(`plugins list: ${JSON.stringify(entry)}`);
    return `installed (${inst.ms} ms), plugins list: ${entry.status}, origin ${entry.origin}`;
  }),

  step(`no platform package: ${PLUGIN_NAME} alone`, async () => {
    const reg = await startRegistry();
    cleanup.push(() => reg.stop());
    await publishRelease(reg, { platform: false });
    const state = await fresh(reg);
    await installPlugin(state, PLUGIN_NAME);
    await state.setRocketchat(sim.url);
    const r = await send(state, "hello without a core");
    const said = (r.stdout + r.stderr).trim();
    const wanted = `the package ${PLATFORM_PACKAGE} is not installed`;
    if (r.code === 0 || !said.includes(wanted)) throw new Error(`message send: exit ${r.code}, expected "${wanted}":\n${said}`);
    await reg.stop();
    return `message send: exit ${r.code}, ${JSON.stringify(said.split("\n").find((l) => l.includes(wanted)).slice(0, 160) + "…")}`;
  }),

  step(`upgrade ${previousVersion(CURRENT_VERSION)} -> ${CURRENT_VERSION} in place`, async () => {
    const reg = await startRegistry();
    cleanup.push(() => reg.stop());
    const previous = previousVersion(CURRENT_VERSION);
    await publishRelease(reg, { version: previous });
    const state = await fresh(reg);
    await installPlugin(state, PLUGIN_NAME);
    const section = rocketchatSection(sim.url);
    await state.setRocketchat(section);
    const before = installedVersions(state);
    if (before[PLUGIN_NAME] !== previous || before[PLATFORM_PACKAGE] !== previous) throw new Error(`before the update: ${JSON.stringify(before)}`);

    await publishRelease(reg);
    const up = await openclaw(state.env, ["plugins", "update", "rocketchat"]);
    if (up.code !== 0) throw new Error(`plugins update rocketchat: exit ${up.code}\n${up.stdout}\n${up.stderr}`);
    const after = installedVersions(state);
    if (after[PLUGIN_NAME] !== CURRENT_VERSION || after[PLATFORM_PACKAGE] !== CURRENT_VERSION) throw new Error(`after the update: ${JSON.stringify(after)}\n${up.stdout}`);

    const got = await openclaw(state.env, ["config", "get", "channels.rocketchat", "--json"]);
    let kept;
    try {
      kept = JSON.parse(got.stdout);
    } catch {}
    // The token may come back redacted; everything else exactly as configured.
    for (const [k, v] of Object.entries(section)) {
      if (k !== "authToken" && JSON.stringify(kept?.[k]) !== JSON.stringify(v)) throw new Error(`channels.rocketchat.${k} after the update: ${JSON.stringify(kept?.[k])}, was ${JSON.stringify(v)}\n${got.stdout}${got.stderr}`);
    }
    if (typeof kept.authToken !== "string" || !kept.authToken) throw new Error(`channels.rocketchat.authToken lost: ${got.stdout}`);

    const text = `sent after the upgrade to ${CURRENT_VERSION}`;
    const since = new Date(Date.now() - 1000).toISOString();
    const r = await send(state, text);
    if (r.code !== 0) throw new Error(`message send after the update: exit ${r.code}\n${r.stdout}\n${r.stderr}`);
    await arrived(text, since);
    await reg.stop();
    return `config kept, ${JSON.stringify(after)}, message send arrived in #general (update ${up.ms} ms)`;
  })]);
} catch (e) {
  failed++;
  console.log(`FAIL setup: ${e.message}`);
} finally {
  for (const f of cleanup.reverse()) await Promise.resolve().then(f).catch(() => {});
}
console.log(`${failed ? "registry install FAILED" : "registry install ok"} in ${Math.round(performance.now() - t0)} ms`);
process.exit(failed ? 1 : 0);
