#!/bin/sh
# Print openclaw_rocketchat.pc for an install prefix (or a build dir) on stdout.
#
#   sh bindings/c/pkgconfig.sh [--libs-private FLAGS] PREFIX [LIBDIR] [INCLUDEDIR] > openclaw_rocketchat.pc
#
# LIBDIR defaults to PREFIX/lib and INCLUDEDIR to PREFIX/include. Against a build dir:
#   sh bindings/c/pkgconfig.sh "$PWD" "$CARGO_TARGET_DIR/release" "$PWD/include"
# A relocatable file (what bindings/c/package.sh puts in the release tarball, in lib/pkgconfig/):
#   sh bindings/c/pkgconfig.sh '${pcfiledir}/../..'
# --libs-private: what the static library needs (rustc's native-static-libs for the target);
# default "-lpthread -ldl -lm", enough for glibc Linux.
set -eu
libs_private="-lpthread -ldl -lm"
if [ "${1:-}" = "--libs-private" ]; then
    [ $# -ge 2 ] || { echo "$0: --libs-private needs a value" >&2; exit 2; }
    libs_private=$2
    shift 2
fi
if [ $# -lt 1 ] || [ $# -gt 3 ]; then
    echo "usage: $0 [--libs-private FLAGS] PREFIX [LIBDIR] [INCLUDEDIR]" >&2
    exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
prefix=$1
libdir=${2:-'${prefix}/lib'}
includedir=${3:-'${prefix}/include'}
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' "$here/Cargo.toml" | head -n 1)
# `|` as the sed separator: paths contain `/`; refuse the rare path that contains `|`.
case "$prefix$libdir$includedir$libs_private" in
*'|'* | *'&'*) echo "$0: paths and flags must not contain '|' or '&'" >&2; exit 2 ;;
esac
sed -e "s|@PREFIX@|$prefix|" -e "s|@LIBDIR@|$libdir|" -e "s|@INCLUDEDIR@|$includedir|" \
    -e "s|@VERSION@|$version|" -e "s|@LIBS_PRIVATE@|$libs_private|" "$here/openclaw_rocketchat.pc.in"
