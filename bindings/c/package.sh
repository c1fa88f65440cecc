#!/usr/bin/env bash
# Build the C library for one target and write its release tarball:
#
#   bindings/c/package.sh [--target TRIPLE] [--profile release|debug] OUTDIR
#
# writes OUTDIR/openclaw-rocketchat-c-<version>-<target>.tar.gz (and .sha256 beside it), one
# folder openclaw-rocketchat-c-<version>-<target>/ holding
#   lib/libopenclaw_rocketchat.so (+ its soname link, when the build sets one) | .dylib,
#   lib/libopenclaw_rocketchat.a, lib/pkgconfig/openclaw_rocketchat.pc (relocatable: paths from
#   ${pcfiledir}), include/*.h, README.md (bindings/c/README.md), LICENSE;
#   on Windows bin/openclaw_rocketchat.dll, lib/openclaw_rocketchat.dll.lib (import library)
#   and lib/openclaw_rocketchat.lib (static) instead.
# <version> is the C library's (bindings/c/Cargo.toml, what rcc_version() returns); <target> the
# Rust target, default this machine's. The build is `cargo rustc -p rocketchat-c` (a no-op when
# the library is current) with --print native-static-libs: the .pc's Libs.private is what rustc
# says the static library needs on that target, not a guess. Prints the tarball's path last.
# Honours CARGO_TARGET_DIR (and RUSTFLAGS, e.g. -C target-feature=-crt-static for musl), and
# STRIP (default strip; a cross build's debug profile wants the target's, aarch64-linux-gnu-strip).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
target="" profile=release out=""
usage() { sed -n '2,4p' "$0" >&2; exit 2; }
while [[ $# -gt 0 ]]; do
  case "$1" in
    --target) target="${2:?}"; shift ;;
    --profile) profile="${2:?}"; shift ;;
    -h | --help) sed -n '2,17p' "$0"; exit 0 ;;
    -*) echo "package.sh: unknown argument $1" >&2; usage ;;
    *) [[ -z $out ]] || usage; out="$1" ;;
  esac
  shift
done
[[ -n $out ]] || usage
case "$profile" in release | debug) ;; *) echo "package.sh: --profile release or debug" >&2; exit 2 ;; esac
host="$(rustc -vV | sed -n 's/^host: //p')"
triple="${target:-$host}"
version="$(sed -n 's/^version = "\(.*\)"$/\1/p' "$here/Cargo.toml" | head -n 1)"
name="openclaw-rocketchat-c-$version-$triple"

# Build (or find current) and learn what the static library links against.
args=(rustc -p rocketchat-c --lib --locked)
[[ $profile == release ]] && args+=(--release)
[[ -n $target ]] && args+=(--target "$target")
cd "$root"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
if ! cargo "${args[@]}" -- --print native-static-libs >"$log" 2>&1; then
  cat "$log" >&2
  echo "package.sh: cargo ${args[*]} failed" >&2
  exit 1
fi
native="$(sed -n 's/^note: native-static-libs: //p' "$log" | tail -n 1)"
[[ -n $native ]] || { cat "$log" >&2; echo "package.sh: rustc printed no native-static-libs" >&2; exit 1; }
# MSVC prints `kernel32.lib ... /defaultlib:msvcrt`: pkg-config wants -lkernel32.
libs_private=""
for f in $native; do
  case "$f" in
    /defaultlib:*) ;;
    *.lib) libs_private+=" -l${f%.lib}" ;;
    *) libs_private+=" $f" ;;
  esac
done
libs_private="${libs_private# }"
lib_dir="${CARGO_TARGET_DIR:-$root/target}/${target:+$target/}$profile"

stage="$(mktemp -d)"
trap 'rm -f "$log"; rm -rf "$stage"' EXIT
pkg="$stage/$name"
mkdir -p "$pkg/lib/pkgconfig" "$pkg/include"
case "$triple" in
  *windows*)
    mkdir -p "$pkg/bin"
    cp "$lib_dir/openclaw_rocketchat.dll" "$pkg/bin/"
    cp "$lib_dir/openclaw_rocketchat.dll.lib" "$lib_dir/openclaw_rocketchat.lib" "$pkg/lib/"
    ;;
  *apple*)
    cp "$lib_dir/libopenclaw_rocketchat.dylib" "$lib_dir/libopenclaw_rocketchat.a" "$pkg/lib/"
    # rustc names a cdylib @rpath/<file>; anything else would point into the build dir.
    if command -v otool >/dev/null; then
      id="$(otool -D "$pkg/lib/libopenclaw_rocketchat.dylib" | sed -n 2p)"
      [[ $id == @rpath/libopenclaw_rocketchat.dylib ]] || { echo "package.sh: install name is $id, not @rpath/libopenclaw_rocketchat.dylib" >&2; exit 1; }
    fi
    ;;
  *)
    cp "$lib_dir/libopenclaw_rocketchat.so" "$lib_dir/libopenclaw_rocketchat.a" "$pkg/lib/"
    soname=""
    if command -v readelf >/dev/null; then
      soname="$(readelf -d "$pkg/lib/libopenclaw_rocketchat.so" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')"
    fi
    if [[ -n $soname && $soname != libopenclaw_rocketchat.so ]]; then
      mv "$pkg/lib/libopenclaw_rocketchat.so" "$pkg/lib/$soname"
      ln -s "$soname" "$pkg/lib/libopenclaw_rocketchat.so"
    fi
    # A debug build's line tables are of no use in a tarball and double its size.
    if [[ $profile == debug ]] && command -v "${STRIP:-strip}" >/dev/null; then
      "${STRIP:-strip}" --strip-debug "$pkg/lib/libopenclaw_rocketchat.a" "$pkg/lib/"libopenclaw_rocketchat.so*
    fi
    ;;
esac
sh "$here/pkgconfig.sh" --libs-private "$libs_private" '${pcfiledir}/../..' >"$pkg/lib/pkgconfig/openclaw_rocketchat.pc"
cp "$root"/include/*.h "$pkg/include/"
cp "$here/README.md" "$pkg/README.md"
cp "$root/LICENSE" "$pkg/LICENSE"

mkdir -p "$out"
out="$(cd "$out" && pwd)"
tarball="$out/$name.tar.gz"
tar -C "$stage" -czf "$tarball.tmp" "$name"
mv -f "$tarball.tmp" "$tarball"
if command -v sha256sum >/dev/null; then
  (cd "$out" && sha256sum "$name.tar.gz" >"$name.tar.gz.sha256")
else
  (cd "$out" && shasum -a 256 "$name.tar.gz" >"$name.tar.gz.sha256")
fi
echo "$tarball"
