// The plugin's view of the native core loader (src/loader.cjs, shared with bindings/node):
// loaded lazily, since config reading and plugin listing never need it. Looks, in order, at
//   1. $ROCKETCHAT_NODE_BINDING (an explicit .node file);
//   2. ./openclaw-rocketchat.<triple>.node in the package root (a local build, see
//      scripts/build-native.sh --bundle), then, in a source checkout,
//      bindings/node/openclaw-rocketchat.<triple>.node;
//   3. the per-platform package @alexwoo-awso/openclaw-rocketchat-<triple> (optionalDependencies).
// When none is there the error (NativeCoreMissingError) names the platform package to install.
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const require = createRequire(import.meta.url);
const loader = require("./loader.cjs");
const pkgRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const search = {
  dirs: [pkgRoot, path.join(pkgRoot, "..", "bindings", "node")],
  hint:
    "Reinstall the plugin without --no-optional / --omit=optional, " +
    "or install <package> matching this plugin's version.",
};

export const { BINARY_NAME, PLATFORM_PACKAGE_PREFIX, PLATFORMS, NativeCoreMissingError, platformTriple } = loader;

let cached;
/**
 * The binding's exports (`RocketChatCore`, …). Throws NativeCoreMissingError naming the missing
 * package. `options.triple` / `options.env` look as another platform / environment would
 * (uncached; for tests).
 */
export function loadNative(options) {
  if (options) return loader.loadNative({ ...search, ...options });
  return (cached ??= loader.loadNative(search));
}
