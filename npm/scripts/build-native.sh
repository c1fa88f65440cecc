#!/usr/bin/env bash
# Build this platform's native core into npm/platforms/<triple>/openclaw-rocketchat.<triple>.node
# (the per-platform package, napi-rs layout).
#   npm/scripts/build-native.sh [--debug] [--bundle] [--target RUST_TARGET --triple TRIPLE]
#   --debug   debug profile, stripped of debug info (quick local/e2e builds); default release
#   --bundle  also copy it to npm/openclaw-rocketchat.<triple>.node, so `npm pack` of npm/ carries
#             it (the loader's "local file" slot): a self-contained tarball for offline installs
#   --target/--triple  cross builds in CI (release.yml)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
npm_dir="$(cd "$here/.." && pwd)"
root="$(cd "$npm_dir/.." && pwd)"
profile=release bundle=0 target="" triple=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --debug) profile=debug ;;
    --bundle) bundle=1 ;;
    --target) target="$2"; shift ;;
    --triple) triple="$2"; shift ;;
    *) echo "build-native.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
args=(-p rocketchat-node)
[[ $profile == release ]] && args+=(--release)
[[ -n $target ]] && args+=(--target "$target")
cd "$root"
cargo build "${args[@]}"
target_dir="${CARGO_TARGET_DIR:-$root/target}"
out_dir="$target_dir/${target:+$target/}$profile"
case "${target:-$(uname -s)}" in
  *windows* | MINGW* | MSYS* | CYGWIN*) lib="rocketchat_node.dll" ;;
  *apple* | Darwin) lib="librocketchat_node.dylib" ;;
  *) lib="librocketchat_node.so" ;;
esac
[[ -n $triple ]] || triple="$(node --input-type=module -e "import { platformTriple } from '$npm_dir/src/native.js'; console.log(platformTriple())")"
dest="$npm_dir/platforms/$triple/openclaw-rocketchat.$triple.node"
[[ -d "$(dirname "$dest")" ]] || { echo "build-native.sh: no package dir for $triple (run scripts/gen-platform-packages.mjs)" >&2; exit 1; }
cp "$out_dir/$lib" "$dest.tmp"
if [[ $profile == debug ]] && command -v strip >/dev/null && [[ $lib == *.so ]]; then strip --strip-debug "$dest.tmp"; fi
mv -f "$dest.tmp" "$dest"
echo "$dest"
if [[ $bundle == 1 ]]; then
  cp "$dest" "$npm_dir/openclaw-rocketchat.$triple.node.tmp"
  mv -f "$npm_dir/openclaw-rocketchat.$triple.node.tmp" "$npm_dir/openclaw-rocketchat.$triple.node"
  echo "$npm_dir/openclaw-rocketchat.$triple.node"
fi
