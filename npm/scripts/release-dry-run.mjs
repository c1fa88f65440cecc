#!/usr/bin/env node
// The release workflow's publish job on this machine, short of publishing: the binaries built
// here (npm/platforms/*/*.node, from npm/scripts/build-native.sh) laid out as the build jobs'
// artifacts (artifacts/native-<triple>/), the same assembly and checks
// (npm/scripts/assemble-release.mjs --allow-missing: the targets not built here are checked
// without their binary and skipped, one line each), then `npm publish --dry-run` of every
// package that has its binary, and of the main package, against a local Verdaccio
// (tests/e2e/registry.mjs; installed by tests/e2e/setup.sh). Fails when any package would be
// published with wrong contents. --provenance is left out: it needs CI's OIDC token.
//   node npm/scripts/release-dry-run.mjs
import { execFile } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { startRegistry } from "../../tests/e2e/registry.mjs";

const run = promisify(execFile);
const here = path.dirname(fileURLToPath(import.meta.url));
const npmDir = path.resolve(here, "..");
const t0 = performance.now();
const work = mkdtempSync(path.join(os.tmpdir(), "rocketchat-release-dry-run-"));
let reg;
let code = 0;
try {
  const artifacts = path.join(work, "artifacts");
  for (const triple of readdirSync(path.join(npmDir, "platforms"))) {
    const node = path.join(npmDir, "platforms", triple, `openclaw-rocketchat.${triple}.node`);
    if (!existsSync(node)) continue;
    mkdirSync(path.join(artifacts, `native-${triple}`), { recursive: true });
    cpSync(node, path.join(artifacts, `native-${triple}`, path.basename(node)));
  }
  if (!existsSync(artifacts)) throw new Error("no npm/platforms/*/*.node: run npm/scripts/build-native.sh first");
  reg = await startRegistry();
  const args = [path.join(here, "assemble-release.mjs"), "--artifacts", artifacts, "--out", path.join(work, "release"), "--allow-missing", "--publish", "--",
    "--dry-run", "--access", "public", "--registry", reg.url, "--userconfig", reg.publisherNpmrc];
  const { stdout, stderr } = await run(process.execPath, args, { env: { ...process.env, npm_config_loglevel: "error" }, maxBuffer: 16 << 20 }).catch((e) => {
    code = 1;
    return e;
  });
  process.stdout.write(stdout ?? "");
  process.stderr.write(stderr ?? "");
} catch (e) {
  code = 1;
  console.error(`FAIL ${e.message}`);
} finally {
  await reg?.stop().catch(() => {});
  rmSync(work, { recursive: true, force: true });
}
console.log(`${code ? "release dry-run FAILED" : "release dry-run ok"} in ${Math.round(performance.now() - t0)} ms`);
process.exit(code);
