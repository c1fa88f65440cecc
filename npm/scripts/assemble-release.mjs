#!/usr/bin/env node
// The publish job of .github/workflows/release.yml, in one script that the workflow and
// npm/scripts/release-dry-run.mjs both run, so the two cannot drift:
//   1. copies npm/ (and release.yml, which gen-platform-packages.mjs --check reads) into OUT,
//      without node_modules, tarballs or any .node file: binaries come from the artifacts only;
//   2. `napi artifacts` (@napi-rs/cli, pinned in npm/package.json devDependencies) moves each
//      <binaryName>.<triple>.node found under --artifacts into OUT/npm/platforms/<triple>/;
//      napi also drops a copy into the main package's root: removed, the main package carries none;
//   3. checks what npm would publish, from `npm pack --dry-run --json` of each package: generated
//      files current (gen-platform-packages.mjs --check, gen-manifest.mjs --check with the
//      linux-x64-gnu binary when this machine can load it), one version everywhere (and the tag's,
//      with --tag), the main package without a .node and with exactly one optionalDependency per
//      napi target at that version, each platform package with its name, os/cpu/libc (from
//      src/loader.cjs, as the loader looks them up), main = its binary, files = [its binary], its
//      binary packed and built for its platform (ELF/Mach-O/PE machine, glibc or musl), and a
//      repository URL (npm --provenance refuses a package without one);
//   4. with --publish, `npm publish <args after -->` in each platform package, then the main one.
// A napi target without a binary fails, unless --allow-missing (the dry-run on a machine that
// built one platform): then that package is checked without its binary and not published, said
// in one line each.
//
//   node npm/scripts/assemble-release.mjs --artifacts DIR --out DIR [--tag vX.Y.Z]
//        [--allow-missing] [--publish [-- NPM_PUBLISH_ARGS...]]
// NAPI_CLI: path to @napi-rs/cli's cli.js (default: npm/node_modules, then .cache/e2e/napi).
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const srcNpm = path.resolve(here, "..");
const repo = path.resolve(srcNpm, "..");

const argv = process.argv.slice(2);
const dashdash = argv.indexOf("--");
const opts = dashdash < 0 ? argv : argv.slice(0, dashdash);
const publishArgs = dashdash < 0 ? [] : argv.slice(dashdash + 1);
const value = (name) => {
  const i = opts.indexOf(name);
  if (i < 0) return undefined;
  if (!opts[i + 1] || opts[i + 1].startsWith("--")) usage(`${name} needs a value`);
  return opts[i + 1];
};
function usage(msg) {
  console.error(`assemble-release: ${msg}\nusage: node npm/scripts/assemble-release.mjs --artifacts DIR --out DIR [--tag vX.Y.Z] [--allow-missing] [--publish [-- NPM_PUBLISH_ARGS...]]`);
  process.exit(2);
}
for (let i = 0; i < opts.length; i++) {
  if (["--artifacts", "--out", "--tag"].includes(opts[i])) i++;
  else if (!["--allow-missing", "--publish"].includes(opts[i])) usage(`unknown argument ${opts[i]}`);
}
const artifacts = value("--artifacts") ?? usage("--artifacts is required");
const out = value("--out") ?? usage("--out is required");
const tag = value("--tag");
const allowMissing = opts.includes("--allow-missing");
const publish = opts.includes("--publish");

const problems = [];
const problem = (msg) => problems.push(msg);
const say = (msg) => console.log(msg);
const run = (cmd, args, cwd, env = process.env) => execFileSync(cmd, args, { cwd, env, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
const npmCmd = process.platform === "win32" ? "npm.cmd" : "npm";

// 1. The staging copy.
const outDir = path.resolve(out);
const npmDir = path.join(outDir, "npm");
rmSync(outDir, { recursive: true, force: true });
cpSync(srcNpm, npmDir, { recursive: true, filter: (src) => !/(^|[\\/])(node_modules|[^\\/]*\.tgz|[^\\/]*\.node)$/.test(src) });
mkdirSync(path.join(outDir, ".github/workflows"), { recursive: true });
cpSync(path.join(repo, ".github/workflows/release.yml"), path.join(outDir, ".github/workflows/release.yml"));

const require = createRequire(path.join(npmDir, "package.json"));
const pkg = JSON.parse(readFileSync(path.join(npmDir, "package.json"), "utf8"));
const { BINARY_NAME, PLATFORMS, PLATFORM_PACKAGE_PREFIX, platformTriple } = require("./src/loader.cjs");
const version = pkg.version;

// 2. napi artifacts. Only the targets with a binary when --allow-missing: napi fails on any other.
function napiCli() {
  const pinned = pkg.devDependencies?.["@napi-rs/cli"];
  const candidates = [process.env.NAPI_CLI, path.join(srcNpm, "node_modules/@napi-rs/cli"), path.join(repo, ".cache/e2e/napi/node_modules/@napi-rs/cli")];
  for (const c of candidates.filter(Boolean)) {
    const dir = c.endsWith(".js") ? path.resolve(path.dirname(c), "..") : c;
    const pj = path.join(dir, "package.json");
    if (!existsSync(pj)) continue;
    const got = JSON.parse(readFileSync(pj, "utf8")).version;
    if (pinned && got !== pinned) throw new Error(`@napi-rs/cli ${got} at ${dir}, npm/package.json pins ${pinned}`);
    return path.join(dir, "dist/cli.js");
  }
  throw new Error(`@napi-rs/cli ${pinned ?? ""} not found: npm install in npm/ (or tests/e2e/setup.sh), or set NAPI_CLI`);
}
const found = new Map(); // triple -> path, what the artifacts dir holds
(function walk(dir) {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) walk(p);
    else if (e.name.startsWith(`${BINARY_NAME}.`) && e.name.endsWith(".node")) found.set(e.name.slice(BINARY_NAME.length + 1, -".node".length), p);
  }
})(path.resolve(artifacts));
const present = PLATFORMS.filter((p) => found.has(p.triple));
const missing = PLATFORMS.filter((p) => !found.has(p.triple));
for (const triple of found.keys()) if (!PLATFORMS.some((p) => p.triple === triple)) problem(`artifacts: ${BINARY_NAME}.${triple}.node is for no napi target`);
if (missing.length && !allowMissing) problem(`artifacts: no binary for ${missing.map((p) => p.triple).join(", ")}`);
const napiArgs = ["artifacts", "--cwd", npmDir, "--package-json-path", "package.json", "--npm-dir", "platforms", "--output-dir", path.resolve(artifacts)];
if (missing.length && allowMissing && present.length) {
  const config = path.join(outDir, "napi-present-targets.json");
  writeFileSync(config, JSON.stringify({ binaryName: BINARY_NAME, targets: present.map((p) => p.target) }));
  napiArgs.push("--config-path", config);
}
if (present.length && !problems.length) {
  try {
    run(process.execPath, [napiCli(), ...napiArgs], outDir);
  } catch (e) {
    problem(`napi artifacts failed: ${(e.stderr || e.stdout || e.message).trim()}`);
  }
}
for (const f of readdirSync(npmDir)) if (f.endsWith(".node")) rmSync(path.join(npmDir, f)); // napi's copy in the main package root
say(`assembled in ${path.relative(process.cwd(), outDir) || "."}: ${present.length ? present.map((p) => p.triple).join(", ") : "no binary"} from ${artifacts}`);

// 3. What would be published.
function packFiles(dir) {
  const json = run(npmCmd, ["pack", "--dry-run", "--json", "--ignore-scripts", "--loglevel=error"], dir);
  return JSON.parse(json)[0].files.map((f) => f.path.replaceAll("\\", "/")).sort();
}
// The platform a binary was built for, from its header (and glibc: whether it needs libc.so.6).
function binaryPlatform(file) {
  const b = readFileSync(file);
  if (b.readUInt32BE(0) === 0x7f454c46) {
    const machine = { 62: "x64", 183: "arm64" }[b.readUInt16LE(18)] ?? `e_machine ${b.readUInt16LE(18)}`;
    return { os: "linux", cpu: machine, libc: b.includes("libc.so.6") ? "glibc" : "musl" };
  }
  if (b.readUInt32LE(0) === 0xfeedfacf) return { os: "darwin", cpu: { 0x01000007: "x64", 0x0100000c: "arm64" }[b.readUInt32LE(4)] ?? "unknown" };
  if (b.toString("latin1", 0, 2) === "MZ") {
    const pe = b.readUInt32LE(0x3c);
    return { os: "win32", cpu: { 0x8664: "x64", 0xaa64: "arm64" }[b.readUInt16LE(pe + 4)] ?? "unknown" };
  }
  return { os: "unknown", cpu: "unknown" };
}
const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);
const repoUrl = (p) => (typeof p.repository === "string" ? p.repository : p.repository?.url) ?? "";
const wantedRepo = process.env.GITHUB_REPOSITORY ? `github.com/${process.env.GITHUB_REPOSITORY}` : null;
function checkRepository(p, where) {
  const url = repoUrl(p);
  if (!url) problem(`${where}: no repository.url (npm publish --provenance needs it)`);
  else if (wantedRepo && !url.replace(/\.git$/, "").endsWith(wantedRepo)) problem(`${where}: repository.url ${url} is not ${wantedRepo}`);
}

for (const [script, env] of [
  ["gen-platform-packages.mjs", process.env],
  ["gen-manifest.mjs", null],
]) {
  let scriptEnv = env;
  if (!scriptEnv) {
    // The manifest's schema comes from the core: read it from a binary this machine can load.
    const mine = PLATFORMS.find((p) => p.triple === platformTriple() && existsSync(path.join(npmDir, "platforms", p.triple, `${BINARY_NAME}.${p.triple}.node`)));
    if (!mine) {
      say(`skip gen-manifest.mjs --check: no binary for this machine (${platformTriple()}) assembled`);
      continue;
    }
    scriptEnv = { ...process.env, ROCKETCHAT_NODE_BINDING: path.join(npmDir, "platforms", mine.triple, `${BINARY_NAME}.${mine.triple}.node`) };
  }
  try {
    run(process.execPath, [path.join(npmDir, "scripts", script), "--check"], outDir, scriptEnv);
  } catch (e) {
    problem(`${script} --check: ${(e.stderr || e.message).trim()}`);
  }
}
if (tag && tag !== `v${version}`) problem(`tag ${tag} is not v${version} (npm/package.json)`);

const mainFiles = packFiles(npmDir);
const binaries = mainFiles.filter((f) => f.endsWith(".node"));
if (binaries.length) problem(`${pkg.name}: would publish ${binaries.join(", ")} (the main package carries no binary)`);
for (const f of ["package.json", "index.js", "openclaw.plugin.json", "src/loader.cjs"]) if (!mainFiles.includes(f)) problem(`${pkg.name}: ${f} would not be published`);
const wantedOptional = Object.fromEntries(PLATFORMS.map((p) => [`${PLATFORM_PACKAGE_PREFIX}${p.triple}`, version]));
if (!same(pkg.optionalDependencies, wantedOptional)) problem(`${pkg.name}: optionalDependencies ${JSON.stringify(pkg.optionalDependencies)}, expected ${JSON.stringify(wantedOptional)}`);
checkRepository(pkg, pkg.name);

const toPublish = [];
for (const p of PLATFORMS) {
  const dir = path.join(npmDir, "platforms", p.triple);
  const node = `${BINARY_NAME}.${p.triple}.node`;
  const name = `${PLATFORM_PACKAGE_PREFIX}${p.triple}`;
  const sub = JSON.parse(readFileSync(path.join(dir, "package.json"), "utf8"));
  const where = `${name}`;
  if (sub.name !== name) problem(`${where}: name is ${sub.name}`);
  if (sub.version !== version) problem(`${where}: version ${sub.version}, the main package's optionalDependencies want ${version}`);
  if (!same(sub.os, [p.os])) problem(`${where}: os ${JSON.stringify(sub.os)}, expected ["${p.os}"]`);
  if (!same(sub.cpu, [p.cpu])) problem(`${where}: cpu ${JSON.stringify(sub.cpu)}, expected ["${p.cpu}"]`);
  if (!same(sub.libc, p.libc ? [p.libc] : undefined)) problem(`${where}: libc ${JSON.stringify(sub.libc)}, expected ${p.libc ? `["${p.libc}"]` : "none"}`);
  if (sub.main !== node) problem(`${where}: main ${sub.main}, expected ${node}`);
  if (!same(sub.files, [node])) problem(`${where}: files ${JSON.stringify(sub.files)}, expected ["${node}"]`);
  checkRepository(sub, where);
  const has = existsSync(path.join(dir, node));
  const files = packFiles(dir);
  const wantedFiles = [...(has ? [node] : []), "README.md", "package.json"].sort();
  if (!same(files, wantedFiles)) problem(`${where}: would publish ${JSON.stringify(files)}, expected ${JSON.stringify(wantedFiles)}`);
  if (!has) {
    if (!allowMissing) problem(`${where}: no ${node}`);
    else say(`skip ${name}: no ${node} here (built by the release workflow only); its package.json checked, not published`);
    continue;
  }
  const built = binaryPlatform(path.join(dir, node));
  const expected = { os: p.os, cpu: p.cpu, ...(p.libc ? { libc: p.libc } : {}) };
  if (!same(built, expected)) problem(`${where}: ${node} is built for ${JSON.stringify(built)}, the package is for ${JSON.stringify(expected)}`);
  toPublish.push({ name, dir, size: statSync(path.join(dir, node)).size });
  say(`ok   ${name}@${sub.version}: ${files.join(", ")} (${(statSync(path.join(dir, node)).size / 1e6).toFixed(1)} MB), os ${p.os}, cpu ${p.cpu}${p.libc ? `, libc ${p.libc}` : ""}`);
}
if (!toPublish.length && !problems.length) problem("no platform package has its binary");
say(`ok   ${pkg.name}@${version}: ${mainFiles.length} files, no .node, optionalDependencies = ${PLATFORMS.length} platform packages @ ${version}`);

if (problems.length) {
  for (const p of problems) console.error(`FAIL ${p}`);
  console.error(`assemble-release: ${problems.length} problem(s); nothing published`);
  process.exit(1);
}

// 4. Publish: the platform packages first, so the main package's optionalDependencies resolve.
if (publish) {
  for (const { name, dir } of [...toPublish, { name: pkg.name, dir: npmDir }]) {
    try {
      run(npmCmd, ["publish", ...publishArgs], dir);
      say(`ok   npm publish ${publishArgs.join(" ")} ${name}@${version}`);
    } catch (e) {
      console.error(`FAIL npm publish ${name}@${version}: ${(e.stderr || e.message).trim()}`);
      process.exit(1);
    }
  }
}
