// Loads the native Rocket.Chat core (napi-rs) the napi way, lazily: config reading and plugin
// listing never need it. Looks, in order, at
//   1. $ROCKETCHAT_NODE_BINDING (an explicit .node file);
//   2. ./openclaw-rocketchat.<triple>.node in the package root (a local build, see
//      scripts/build-native.sh --bundle);
//   3. the per-platform package @alexwoo-awso/openclaw-rocketchat-<triple> (optionalDependencies);
//   4. in a source checkout, bindings/node/openclaw-rocketchat.<triple>.node.
// When none is there the error names the platform package to install.
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const require = createRequire(import.meta.url);
const pkgRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const BINARY_NAME = "openclaw-rocketchat";
export const PLATFORM_PACKAGE_PREFIX = "@alexwoo-awso/openclaw-rocketchat-";

function isMusl() {
  if (process.platform !== "linux") return false;
  try {
    return readFileSync("/usr/bin/ldd", "utf8").includes("musl");
  } catch {
    const report = typeof process.report?.getReport === "function" ? process.report.getReport() : null;
    return !report?.header?.glibcVersionRuntime;
  }
}

/** The napi platform triple of this process: `linux-x64-gnu`, `darwin-arm64`, `win32-x64-msvc`, … */
export function platformTriple() {
  const { platform, arch } = process;
  if (platform === "linux") return `linux-${arch}-${isMusl() ? "musl" : "gnu"}`;
  if (platform === "win32") return `win32-${arch}-msvc`;
  return `${platform}-${arch}`;
}

export class NativeCoreMissingError extends Error {
  constructor(message) {
    super(message);
    this.name = "NativeCoreMissingError";
  }
}

let cached;
/** The binding's exports (`RocketChatCore`, …). Throws NativeCoreMissingError naming the missing package. */
export function loadNative() {
  if (cached) return cached;
  const triple = platformTriple();
  const tried = [];
  const override = process.env.ROCKETCHAT_NODE_BINDING;
  if (override) return (cached = require(override));
  const local = path.join(pkgRoot, `${BINARY_NAME}.${triple}.node`);
  tried.push(local);
  if (existsSync(local)) return (cached = require(local));
  const pkg = `${PLATFORM_PACKAGE_PREFIX}${triple}`;
  tried.push(pkg);
  try {
    return (cached = require(pkg));
  } catch (e) {
    if (e?.code !== "MODULE_NOT_FOUND") throw e;
  }
  const dev = path.join(pkgRoot, "..", "bindings", "node", `${BINARY_NAME}.${triple}.node`);
  tried.push(dev);
  if (existsSync(dev)) return (cached = require(dev));
  throw new NativeCoreMissingError(
    `rocketchat: no native core for ${triple}: the package ${pkg} is not installed ` +
      `(tried ${tried.join(", ")}). Reinstall the plugin without --no-optional / --omit=optional, ` +
      `or install ${pkg} matching this plugin's version.`,
  );
}
