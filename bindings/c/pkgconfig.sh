#!/bin/sh
# Print openclaw_rocketchat.pc for an install prefix (or a build dir) on stdout.
#
#   sh bindings/c/pkgconfig.sh PREFIX [LIBDIR] [INCLUDEDIR] > openclaw_rocketchat.pc
#
# LIBDIR defaults to PREFIX/lib and INCLUDEDIR to PREFIX/include. Against a build dir:
#   sh bindings/c/pkgconfig.sh "$PWD" "$CARGO_TARGET_DIR/release" "$PWD/include"
set -eu
if [ $# -lt 1 ] || [ $# -gt 3 ]; then
    echo "usage: $0 PREFIX [LIBDIR] [INCLUDEDIR]" >&2
    exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
prefix=$1
libdir=${2:-'${prefix}/lib'}
includedir=${3:-'${prefix}/include'}
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' "$here/Cargo.toml" | head -n 1)
# `|` as the sed separator: paths contain `/`; refuse the rare path that contains `|`.
case "$prefix$libdir$includedir" in
*'|'*) echo "$0: paths must not contain '|'" >&2; exit 2 ;;
esac
sed -e "s|@PREFIX@|$prefix|" -e "s|@LIBDIR@|$libdir|" -e "s|@INCLUDEDIR@|$includedir|" \
    -e "s|@VERSION@|$version|" "$here/openclaw_rocketchat.pc.in"
