// A real npm registry on loopback (Verdaccio, installed by setup.sh into .cache/e2e/verdaccio) and
// the release workflow's publish steps against it, so tests install the plugin by name as users do.
//
//   const reg = await startRegistry();           // empty registry, one publisher account
//   await publishRelease(reg);                    // npm/ as released: this platform's package, then the main one
//   await publishRelease(reg, { version: "0.3.0" }); // the same package under another version
//   await publishRelease(reg, { platform: false });  // the main package alone
//   userNpmrc(state, reg)                         // ~/.npmrc of a state dir: registry=<reg.url>
//   await reg.stop();
//
// The registry has no uplink: it serves only what was published to it, so an install that needed
// anything else would fail here (OpenClaw's install of the plugin needs nothing else).
import { execFile } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { cache, freePort, root, spawnUntil, stopChild } from "./gateway.mjs";

const run = promisify(execFile);
export const verdaccioBin = path.join(cache, "verdaccio/node_modules/verdaccio/bin/verdaccio");
export const PLUGIN_NAME = JSON.parse(readFileSync(path.join(root, "npm/package.json"), "utf8")).name;
export const CURRENT_VERSION = JSON.parse(readFileSync(path.join(root, "npm/package.json"), "utf8")).version;

export async function startRegistry({ timeoutMs = 60000 } = {}) {
  if (!existsSync(verdaccioBin)) throw new Error(`${verdaccioBin} missing: run tests/e2e/setup.sh first`);
  const dir = mkdtempSync(path.join(os.tmpdir(), "rocketchat-registry-"));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}/`;
  const config = path.join(dir, "config.yaml");
  writeFileSync(
    config,
    [
      `storage: ${path.join(dir, "storage")}`,
      `auth: { htpasswd: { file: ${path.join(dir, "htpasswd")} } }`,
      "uplinks: {}",
      "packages: { '**': { access: $all, publish: $authenticated } }",
      "web: { enable: false }",
      // The debug build's binary is tens of MB; Verdaccio's default cap is 10 MB.
      "max_body_size: 200mb",
      "log: { type: stdout, format: pretty, level: warn }",
      "",
    ].join("\n"),
  );
  // Verdaccio prints its address as a warning once it listens.
  const { child, log } = await spawnUntil(process.execPath, [verdaccioBin, "--config", config, "--listen", `127.0.0.1:${port}`], {
    env: { ...process.env, NO_COLOR: "1" }, pattern: /http address/, timeoutMs, name: "verdaccio",
  }).catch((e) => {
    rmSync(dir, { recursive: true, force: true }); // spawnUntil has killed it
    throw e;
  });
  const reg = {
    url, dir, log,
    async stop() {
      await stopChild(child, 5000);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    // The publisher's account and token, as `npm adduser` would create them.
    const res = await fetch(`${url}-/user/org.couchdb.user:release`, {
      method: "PUT",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: "release", password: "release-e2e" }),
    });
    const token = (await res.json().catch(() => ({}))).token;
    if (!res.ok || !token) throw new Error(`verdaccio: creating the publisher account failed (${res.status})`);
    reg.publisherNpmrc = path.join(dir, "publisher.npmrc");
    writeFileSync(reg.publisherNpmrc, `registry=${url}\n//127.0.0.1:${port}/:_authToken=${token}\n`);
  } catch (e) {
    await reg.stop();
    throw e;
  }
  return reg;
}

// What a user writes to point npm (and so `openclaw plugins install`) at this registry.
export function userNpmrc(state, reg) {
  writeFileSync(path.join(state.env.HOME, ".npmrc"), `registry=${reg.url}\n`);
}

// The publish job of .github/workflows/release.yml on a copy of npm/: the platform packages that
// have their binary (here: this machine's, from npm/scripts/build-native.sh), the generated-files
// check, then the main package without a bundled binary. `version` other than npm/'s is set the way
// a release bump is made: in npm/package.json, then npm/scripts/gen-platform-packages.mjs.
// `platform: false` publishes the main package alone. `--provenance` is left out: it needs CI's OIDC.
export async function publishRelease(reg, { version = CURRENT_VERSION, platform = true } = {}) {
  const work = mkdtempSync(path.join(os.tmpdir(), "rocketchat-release-"));
  try {
    const npmDir = path.join(work, "npm");
    cpSync(path.join(root, "npm"), npmDir, { recursive: true, filter: (src) => !/(^|\/)(node_modules|[^/]*\.tgz)$/.test(src) });
    mkdirSync(path.join(work, ".github/workflows"), { recursive: true });
    cpSync(path.join(root, ".github/workflows/release.yml"), path.join(work, ".github/workflows/release.yml"));
    const node = (args) => run(process.execPath, args, { cwd: work });
    if (version !== CURRENT_VERSION) {
      const pj = path.join(npmDir, "package.json");
      writeFileSync(pj, JSON.stringify({ ...JSON.parse(readFileSync(pj, "utf8")), version }, null, 2) + "\n");
      await node(["npm/scripts/gen-platform-packages.mjs"]);
    }
    await node(["npm/scripts/gen-platform-packages.mjs", "--check"]);
    const npm = (cwd) => run("npm", ["publish", "--access", "public", "--userconfig", reg.publisherNpmrc, "--registry", reg.url], { cwd, env: { ...process.env, npm_config_loglevel: "error" } });
    const published = [];
    if (platform) {
      for (const triple of readdirSync(path.join(npmDir, "platforms"))) {
        const dir = path.join(npmDir, "platforms", triple);
        if (!readdirSync(dir).some((f) => f.endsWith(".node"))) continue; // not built on this machine
        await npm(dir);
        published.push(`${PLUGIN_NAME}-${triple}@${version}`);
      }
      if (!published.length) throw new Error("no platform binary in npm/platforms/*/: run npm/scripts/build-native.sh first");
    }
    for (const f of readdirSync(npmDir)) if (/^openclaw-rocketchat\..*\.node$/.test(f)) rmSync(path.join(npmDir, f)); // the main package carries no binary
    await npm(npmDir);
    published.push(`${PLUGIN_NAME}@${version}`);
    return published;
  } catch (e) {
    throw new Error(`publishing ${PLUGIN_NAME}@${version} to ${reg.url} failed: ${e.stderr || e.message}`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

// The packages of the plugin's scope in the npm project OpenClaw installed it into
// (<state>/npm/projects/<id>/node_modules), name -> version, sorted by name.
export function installedVersions(state) {
  const scope = PLUGIN_NAME.split("/")[0];
  const projects = path.join(state.stateDir, "npm/projects");
  const out = {};
  for (const project of existsSync(projects) ? readdirSync(projects) : []) {
    const dir = path.join(projects, project, "node_modules", scope);
    if (!existsSync(path.join(projects, project, "node_modules", PLUGIN_NAME))) continue;
    for (const name of readdirSync(dir).sort()) {
      const pj = path.join(dir, name, "package.json");
      if (existsSync(pj)) out[`${scope}/${name}`] = JSON.parse(readFileSync(pj, "utf8")).version;
    }
  }
  return out;
}
