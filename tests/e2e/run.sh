#!/usr/bin/env bash
# The end-to-end suite: install (Node 24, openclaw, Verdaccio), the simulator and this platform's
# native core (debug, stripped, bundled into npm/ the way npm/scripts/build-native.sh --bundle allows),
# then the full end-to-end test with the simulator and the fake model (the plugin installed by name
# from a local registry, its load path checked with the CLI before the one gateway starts), the
# chat view's own checks in headless Chromium (web-view.mjs, about 5 s, no gateway), the
# install cases that need no gateway (packed tarball, no platform package, upgrade in place), and
# last the release workflow's publish job as a dry run (npm/scripts/release-dry-run.mjs: napi
# artifacts, the package checks, npm publish --dry-run of each package against a local registry;
# about 20 s). plugin-load.mjs (the load path against an unreachable server) stays a standalone
# check: its cases are covered here by e2e.mjs (`unreachable` account) and registry-install.mjs.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
"$here/setup.sh"
cd "$root"
cargo build -q -p rocketchat-sim
"$root/npm/scripts/build-native.sh" --debug --bundle >/dev/null
export ROCKETCHAT_SIM_BIN="${CARGO_TARGET_DIR:-$root/target}/debug/rocketchat-sim"
node "$here/e2e.mjs"
node "$here/web-view.mjs"
node "$here/registry-install.mjs"
node "$root/npm/scripts/release-dry-run.mjs"
