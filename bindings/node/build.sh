#!/usr/bin/env bash
# Build the Node binding (debug unless --release) and copy the cdylib to
# bindings/node/openclaw-rocketchat.<platform>.node, where index.js finds it.
# No napi CLI needed; release packaging per platform uses @napi-rs/cli (see README.md).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
profile=debug
args=()
if [[ "${1:-}" == "--release" ]]; then
  profile=release
  args+=(--release)
fi
cd "$root"
cargo build -p rocketchat-node ${args[@]+"${args[@]}"}
target_dir="${CARGO_TARGET_DIR:-$root/target}"
case "$(uname -s)" in
  Linux) lib="librocketchat_node.so" ;;
  Darwin) lib="librocketchat_node.dylib" ;;
  MINGW* | MSYS* | CYGWIN*) lib="rocketchat_node.dll" ;;
  *) echo "build.sh: unsupported OS $(uname -s)" >&2; exit 1 ;;
esac
triple="$(node -p "require('$root/npm/src/loader.cjs').platformTriple()")"
out="$here/openclaw-rocketchat.$triple.node"
# Copy to a temp name and rename, so a running process never maps a half-written file.
cp "$target_dir/$profile/$lib" "$out.tmp"
mv -f "$out.tmp" "$out"
echo "$out"
