#!/usr/bin/env bash
# The end-to-end suite: install (Node 24, openclaw, Verdaccio), the simulator and this platform's
# native core (debug, stripped, bundled into npm/ the way npm/scripts/build-native.sh --bundle allows),
# then the full end-to-end test with the simulator and the fake model (the plugin installed by name
# from a local registry, its load path checked with the CLI before the one gateway starts), the
# chat view's own checks in headless Chromium (web-view.mjs, about 5 s, no gateway), the
# install cases that need no gateway (packed tarball, no platform package, upgrade in place), and
# last the release workflow's publish job as a dry run (npm/scripts/release-dry-run.mjs: napi
# artifacts, the package checks, npm publish --dry-run of each package against a local registry;
# about 20 s), these two beside the interface cases on the oldest OpenClaw (below: measured
# 293 s one after another, 248 s side by side, the 2 cores busy throughout). plugin-load.mjs (the load path against an unreachable server) stays a standalone
# check: its cases are covered here by e2e.mjs (`unreachable` account) and registry-install.mjs.
#
# OpenClaw versions: the full suite runs against the newest openclaw on npm at the time of the run
# (`npm view openclaw version`; the pin in setup.sh when the registry cannot say, in one loud line;
# versions.sh says which),
# and e2e.mjs --compat (the cases that use every OpenClaw interface the plugin relies on) against
# the oldest version npm/package.json's peerDependencies declare.
#   tests/e2e/run.sh --openclaw V    the full suite against openclaw@V only (e.g. the oldest)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
"$here/setup.sh"
cd "$root"
cargo build -q -p rocketchat-sim
"$root/npm/scripts/build-native.sh" --debug --bundle >/dev/null
export ROCKETCHAT_SIM_BIN="${CARGO_TARGET_DIR:-$root/target}/debug/rocketchat-sim"

if [[ "${1:-}" == --openclaw ]]; then
  E2E_OPENCLAW_DIR="$("$here/setup.sh" --openclaw "${2:?--openclaw needs a version}")" node "$here/e2e.mjs"
  exit
fi

{ read -r newest; read -r oldest; } < <("$here/versions.sh")
[[ -n "${oldest:-}" ]] || exit 1
newest_dir="$("$here/setup.sh" --openclaw "$newest")"
echo "OpenClaw versions: the full suite on $newest (newest on npm), the interface cases on $oldest (oldest declared)"
E2E_OPENCLAW_DIR="$newest_dir" node "$here/e2e.mjs"
node "$here/web-view.mjs"
# The interface cases on the oldest OpenClaw run beside the install cases and the publish dry
# run: those are mostly npm and the CLI starting, and each side has its own gateway, registry,
# simulators and state dir. The compat log is printed whole once both are done.
compat_pid=""
if [[ "$oldest" != "$newest" ]]; then
  oldest_dir="$("$here/setup.sh" --openclaw "$oldest")"
  compat_log="$(mktemp "${TMPDIR:-/tmp}/e2e-compat.XXXXXX")"
  E2E_OPENCLAW_DIR="$oldest_dir" node "$here/e2e.mjs" --compat >"$compat_log" 2>&1 &
  compat_pid=$!
  # Stopped with this script (a timeout, ^C): no gateway left behind.
  trap 'kill "$compat_pid" 2>/dev/null || true' EXIT
fi
rc=0
E2E_OPENCLAW_DIR="$newest_dir" node "$here/registry-install.mjs" || rc=1
E2E_OPENCLAW_DIR="$newest_dir" node "$root/npm/scripts/release-dry-run.mjs" || rc=1
if [[ -n "$compat_pid" ]]; then
  compat_rc=0
  wait "$compat_pid" || compat_rc=$?
  trap - EXIT
  echo "--- e2e.mjs --compat on openclaw $oldest (ran beside the install cases):"
  cat "$compat_log"
  rm -f "$compat_log"
  [[ $compat_rc == 0 ]] || { echo "tests/e2e/run.sh: the interface cases failed on openclaw $oldest" >&2; rc=1; }
fi
exit "$rc"
