#!/usr/bin/env node
// Proves the load path of the npm/ plugin package in a real OpenClaw (no model turn needed):
//   npm pack npm/ -> plugins install <tgz> -> plugins list / inspect --runtime / doctor ->
//   channels add (setup flags, login checked first) -> channels.rocketchat + plugins.entries.rocketchat.enabled -> config validate -> gateway start ->
//   the host calls gateway.startAccount, status.probeAccount and outbound.sendText of the plugin.
// The server URL is unreachable here (no simulator unless --sim-url), so the account must keep
// running (the core retries), the probe must report the connection problem and the send must fail
// with the core's network error: each proves the host reaches the plugin's native core.
//
//   node tests/e2e/plugin-load.mjs [--source npm/|path.tgz] [--sim-url URL] [--keep]
import path from "node:path";
import { createStateDir, freePort, installPlugin, openclaw, packPlugin, root, startGateway } from "./gateway.mjs";

const argv = process.argv.slice(2);
const opt = (name) => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : undefined);
const keep = argv.includes("--keep");

const t0 = performance.now();
const results = [];
function check(name, ok, detail = "") {
  results.push({ name, ok });
  console.log(`${ok ? "ok  " : "FAIL"} ${name}${detail ? ` (${detail})` : ""}`);
}

let source = opt("--source");
let pack;
if (!source || !source.endsWith(".tgz")) {
  const folder = path.resolve(source ?? path.join(root, "npm"));
  pack = packPlugin(folder);
  source = pack.tgz;
  console.log(`packed ${path.relative(root, folder) || "."} -> ${source}`);
}

// No model is needed: nothing here runs an agent turn.
const state = createStateDir({ modelBaseUrl: "http://127.0.0.1:9/v1", port: await freePort() });
let gw;
try {
  const inst = await installPlugin(state, source);
  check("plugins install --force --accept-capabilities <tgz>", /Installed plugin: rocketchat/.test(inst.stdout), `${inst.ms} ms`);

  const list = await openclaw(state.env, ["plugins", "list", "--json"]);
  const entry = JSON.parse(list.stdout).plugins.find((p) => p.id === "rocketchat");
  check("plugins list shows rocketchat enabled", entry?.enabled === true && ["enabled", "loaded"].includes(entry?.status), `status=${entry?.status} origin=${entry?.origin}, ${list.ms} ms`);

  const insp = await openclaw(state.env, ["plugins", "inspect", "rocketchat", "--runtime"]);
  check("plugins inspect rocketchat --runtime: loaded, channel capability", insp.code === 0 && /Status: loaded/.test(insp.stdout) && /channel: rocketchat/.test(insp.stdout), `${insp.ms} ms`);

  const doc = await openclaw(state.env, ["plugins", "doctor"]);
  check("plugins doctor", doc.code === 0 && /checks passed/.test(doc.stdout), `${doc.ms} ms`);

  // `channels add` takes the flags the package.json setup fields declare, and checks the login
  // through the native core before writing: here the server is unreachable, so nothing is written.
  const secret = "setup-token-0123456789";
  const add = await openclaw(state.env, ["channels", "add", "--channel", "rocketchat", "--url", "http://127.0.0.1:9", "--token", secret, "--user-id", "setupUser1"]);
  const got = await openclaw(state.env, ["config", "get", "channels.rocketchat", "--json"]);
  const said = add.stdout + add.stderr;
  check(
    "channels add --url --token --user-id checks the login first: unreachable server refused, nothing written",
    add.code !== 0 && /cannot reach a server at http:\/\/127\.0\.0\.1:9.*check baseUrl/.test(said) && !/setupUser1/.test(got.stdout) && !(said + got.stdout).includes(secret),
    `${add.ms} ms: ${said.trim().split("\n").pop()}`,
  );

  await state.setRocketchat(opt("--sim-url") ?? "http://127.0.0.1:9");
  const val = await openclaw(state.env, ["config", "validate"]);
  check("config validate with channels.rocketchat", val.code === 0, `${val.ms} ms`);

  const chl = await openclaw(state.env, ["channels", "list"]);
  check("channels list: Rocket.Chat configured, enabled", /Rocket\.Chat default: installed, configured, enabled/.test(chl.stdout), `${chl.ms} ms`);

  gw = await startGateway(state);
  check("gateway ready with the plugin", true, `${gw.readyMs} ms`);
  await new Promise((r) => setTimeout(r, 8000));
  const exited = gw.log.find((l) => /\[rocketchat\].*channel exited/.test(l));
  const st = await openclaw(state.env, ["channels", "status", "--json"]);
  let acct;
  try {
    acct = JSON.parse(st.stdout).channelAccounts?.rocketchat?.[0];
  } catch {}
  check("gateway.startAccount keeps the account running", !exited && acct?.running === true && !acct?.connected, exited ?? JSON.stringify(acct ?? st.stdout.slice(0, 300)));

  const probe = await openclaw(state.env, ["channels", "status", "--probe"]);
  check("channels status --probe reports the core's state", /rocketchat:default/.test(probe.stdout) && /probe failed: .*rocketchat/i.test(probe.stdout), `${probe.ms} ms: ${(probe.stdout.match(/.*rocketchat:default.*/) ?? [""])[0].trim()}`);

  const send = await openclaw(state.env, ["message", "send", "--channel", "rocketchat", "--target", "channel:GENERAL", "--message", "hello"]);
  check("message send reaches the core (network error)", send.code !== 0 && /rocketchat|connect|network/i.test(send.stdout + send.stderr), `${send.ms} ms`);
} finally {
  if (gw) console.log(`gateway stopped in ${await gw.stop()} ms`);
  if (keep) console.log(`kept state dir ${state.stateDir}`);
  else state.remove();
  pack?.remove();
}
const failed = results.filter((r) => !r.ok).length;
console.log(`${failed ? "FAILED" : "plugin load path ok"}: ${results.length - failed}/${results.length} checks in ${Math.round(performance.now() - t0)} ms`);
process.exit(failed ? 1 : 0);
