#!/usr/bin/env node
// napi-rs convention: one npm package per platform holding only the .node binary, listed in the
// main package's optionalDependencies (npm installs the one whose os/cpu/libc match; no
// postinstall download). From `napi.targets` of npm/package.json (the one platform list; the
// triples and names come from src/loader.cjs, as the loader looks for them) it writes
// npm/platforms/<triple>/package.json (+ README) and the optionalDependencies of
// npm/package.json at the main package's version; --check also fails when
// .github/workflows/release.yml does not build exactly these targets.
//   node npm/scripts/gen-platform-packages.mjs          # rewrite
//   node npm/scripts/gen-platform-packages.mjs --check  # exit 1 on drift
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const require = createRequire(import.meta.url);
const { BINARY_NAME, PLATFORMS, PLATFORM_PACKAGE_PREFIX } = require("../src/loader.cjs");
const here = path.dirname(fileURLToPath(import.meta.url));
const npmDir = path.join(here, "..");
const repoDir = path.join(npmDir, "..");

const check = process.argv.includes("--check");
const pkgPath = path.join(npmDir, "package.json");
const pkg = JSON.parse(readFileSync(pkgPath, "utf8"));
const files = new Map();

for (const { target, triple, os, cpu, libc } of PLATFORMS) {
  const name = `${PLATFORM_PACKAGE_PREFIX}${triple}`;
  const node = `${BINARY_NAME}.${triple}.node`;
  const sub = {
    name,
    version: pkg.version,
    description: `${pkg.name} native core for ${target}`,
    license: pkg.license,
    ...(pkg.repository ? { repository: { ...pkg.repository, directory: `npm/platforms/${triple}` } } : {}),
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
pkg.optionalDependencies = Object.fromEntries(PLATFORMS.map((p) => [`${PLATFORM_PACKAGE_PREFIX}${p.triple}`, pkg.version]));
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

// A platform dropped from napi.targets leaves its directory behind: say so rather than publish it.
const triples = new Set(PLATFORMS.map((p) => p.triple));
const stale = readdirSync(path.join(npmDir, "platforms")).filter((dir) => !triples.has(dir));
if (stale.length) {
  console.error(`not in napi.targets: ${stale.map((d) => `npm/platforms/${d}`).join(", ")} (remove)`);
  process.exit(1);
}

// The release matrix names runners, so it is written by hand; its targets must be these.
const workflow = path.join(repoDir, ".github", "workflows", "release.yml");
const matrix = new Set(
  [...readFileSync(workflow, "utf8").matchAll(/^\s*- \{ triple: ([\w-]+), target: ([\w-]+)[,} ]/gm)].map(
    (m) => `${m[1]} (${m[2]})`,
  ),
);
const wanted = new Set(PLATFORMS.map((p) => `${p.triple} (${p.target})`));
const missing = [...wanted].filter((p) => !matrix.has(p));
const extra = [...matrix].filter((p) => !wanted.has(p));
if (missing.length || extra.length) {
  console.error(
    `.github/workflows/release.yml does not build what napi.targets lists: ` +
      [missing.length && `missing ${missing.join(", ")}`, extra.length && `not in napi.targets ${extra.join(", ")}`]
        .filter(Boolean)
        .join("; "),
  );
  process.exit(1);
}
