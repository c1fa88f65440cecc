#!/usr/bin/env node
// napi-rs convention: one npm package per platform holding only the .node binary, listed in the
// main package's optionalDependencies (npm installs the one whose os/cpu/libc match; no
// postinstall download). Writes npm/platforms/<triple>/package.json (+ README) and the
// optionalDependencies of npm/package.json at the main package's version.
//   node npm/scripts/gen-platform-packages.mjs          # rewrite
//   node npm/scripts/gen-platform-packages.mjs --check  # exit 1 on drift
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const npmDir = path.join(here, "..");
const BINARY = "openclaw-rocketchat";
// triple -> [rust target, os, cpu, libc]
export const PLATFORMS = {
  "linux-x64-gnu": ["x86_64-unknown-linux-gnu", "linux", "x64", "glibc"],
  "linux-arm64-gnu": ["aarch64-unknown-linux-gnu", "linux", "arm64", "glibc"],
  "linux-x64-musl": ["x86_64-unknown-linux-musl", "linux", "x64", "musl"],
  "linux-arm64-musl": ["aarch64-unknown-linux-musl", "linux", "arm64", "musl"],
  "darwin-x64": ["x86_64-apple-darwin", "darwin", "x64", null],
  "darwin-arm64": ["aarch64-apple-darwin", "darwin", "arm64", null],
  "win32-x64-msvc": ["x86_64-pc-windows-msvc", "win32", "x64", null],
};

const check = process.argv.includes("--check");
const pkgPath = path.join(npmDir, "package.json");
const pkg = JSON.parse(readFileSync(pkgPath, "utf8"));
const files = new Map();

for (const [triple, [target, os, cpu, libc]] of Object.entries(PLATFORMS)) {
  const name = `${pkg.name}-${triple}`;
  const node = `${BINARY}.${triple}.node`;
  const sub = {
    name,
    version: pkg.version,
    description: `${pkg.name} native core for ${target}`,
    license: pkg.license,
    repository: pkg.repository,
    main: node,
    files: [node],
    os: [os],
    cpu: [cpu],
    ...(libc ? { libc: [libc] } : {}),
    engines: { node: ">=20" },
  };
  files.set(path.join(npmDir, "platforms", triple, "package.json"), JSON.stringify(sub, null, 2) + "\n");
  files.set(
    path.join(npmDir, "platforms", triple, "README.md"),
    `# ${name}\n\nThe \`${target}\` binary of [${pkg.name}](https://www.npmjs.com/package/${pkg.name}). Installed automatically as an optional dependency; do not depend on it directly.\n`,
  );
}
pkg.optionalDependencies = Object.fromEntries(Object.keys(PLATFORMS).map((t) => [`${pkg.name}-${t}`, pkg.version]));
files.set(pkgPath, JSON.stringify(pkg, null, 2) + "\n");

let drift = 0;
for (const [file, text] of files) {
  let current = null;
  try {
    current = readFileSync(file, "utf8");
  } catch {}
  if (current === text) continue;
  if (check) {
    console.error(`out of date: ${path.relative(npmDir, file)}`);
    drift++;
  } else {
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, text);
  }
}
if (check && drift) {
  console.error("run node npm/scripts/gen-platform-packages.mjs");
  process.exit(1);
}
