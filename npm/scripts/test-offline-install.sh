#!/usr/bin/env bash
# Packs npm/ (without a bundled binary) and this platform's package (needs
# scripts/build-native.sh first), installs both with `npm install --offline` into a temp dir and
# loads the native core through the plugin's loader. Then checks that the main package alone
# fails with the error naming the missing platform package.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
npm_dir="$(cd "$here/.." && pwd)"
triple="$(node --input-type=module -e "import { platformTriple } from '$npm_dir/src/native.js'; console.log(platformTriple())")"
work="$(mktemp -d)"
trap 'rm -rf "$work"; [[ -f "$work.bundled" ]] && mv "$work.bundled" "$npm_dir/openclaw-rocketchat.$triple.node"' EXIT
bundled="$npm_dir/openclaw-rocketchat.$triple.node"
[[ -f $bundled ]] && mv "$bundled" "$work.bundled" # pack the main package as published: no binary
mkdir -p "$work/out" "$work/both" "$work/main-only"
main_tgz="$work/out/$(cd "$npm_dir" && npm pack --silent --pack-destination "$work/out" | tail -1)"
plat_tgz="$work/out/$(cd "$npm_dir/platforms/$triple" && npm pack --silent --pack-destination "$work/out" | tail -1)"
load='const { loadNative } = await import(process.cwd() + "/node_modules/@alexwoo-awso/openclaw-rocketchat/src/native.js"); try { const n = loadNative(); console.log("loaded:" + Object.keys(n.RocketChatCore.configSchema().properties).length); } catch (e) { console.log(e.name + ": " + e.message); }'
for d in both main-only; do echo '{"name":"offline-install-test","private":true}' > "$work/$d/package.json"; done
(cd "$work/both" && npm install --offline --no-audit --no-fund --loglevel=error "$main_tgz" "$plat_tgz" >/dev/null)
out="$(cd "$work/both" && node --input-type=module -e "$load")"
[[ $out == loaded:* ]] || { echo "FAIL offline install with $triple package: $out" >&2; exit 1; }
echo "ok   npm install --offline <main.tgz> <$triple.tgz>: native core loads ($(du -h "$plat_tgz" | cut -f1) platform tarball)"
(cd "$work/main-only" && npm install --offline --no-audit --no-fund --loglevel=error "$main_tgz" >/dev/null)
out="$(cd "$work/main-only" && node --input-type=module -e "$load")"
[[ $out == *"@alexwoo-awso/openclaw-rocketchat-$triple is not installed"* ]] || { echo "FAIL main package alone: $out" >&2; exit 1; }
echo "ok   main package alone: clear error naming @alexwoo-awso/openclaw-rocketchat-$triple"
