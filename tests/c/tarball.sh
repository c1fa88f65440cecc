#!/usr/bin/env bash
# The C release tarball as a user gets it: bindings/c/package.sh for this machine (debug profile
# unless --profile release; --target as package.sh), unpacked into a fresh temp folder, then
# tests/c/smoke.c and tests/c/roundtrip.c compiled with nothing but what pkg-config says
# (PKG_CONFIG_PATH = the tarball's lib/pkgconfig) and run:
#   dynamic  `pkg-config --cflags --libs`, run with LD_LIBRARY_PATH (DYLD_LIBRARY_PATH on macOS)
#            = pkg-config's libdir, no rpath;
#   static   `pkg-config --static --cflags --libs` with the archive in place of
#            -lopenclaw_rocketchat (the linker would pick the .so beside it), so Libs.private alone
#            must cover what the static library needs; the program must not need the .so.
# roundtrip runs against `rocketchat-sim` (built here if missing; ROCKETCHAT_SIM_BIN overrides),
# this script playing the human as tests/c_programs.rs does: each "POST <rid> <text>" line the
# program prints is posted as alice through the simulator's control API.
#   tests/c/tarball.sh [--profile debug|release] [--target TRIPLE]
#   tests/c/tarball.sh --tarball FILE.tar.gz    test a tarball already written by package.sh
#                                               (the release workflow's, before upload)
# Another target's tarball (scripts/cross): --cc CC compiles the programs (default cc),
# --run-with CMD runs them (e.g. qemu-aarch64-static; the sysroot from QEMU_LD_PREFIX), and
# --static-only builds only the static programs, linked with -static (musl: this machine has no
# musl loader for the dynamic ones).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
pkg_args=(--profile debug)
tarball="" cc=cc run_with="" modes=(dynamic static)
while [[ $# -gt 0 ]]; do
  case "$1" in
    --profile | --target) pkg_args+=("$1" "${2:?}"); shift ;;
    --tarball) tarball="$(cd "$(dirname "${2:?}")" && pwd)/$(basename "$2")"; shift ;;
    --cc) cc="${2:?}"; shift ;;
    --run-with) run_with="${2:?}"; shift ;;
    --static-only) modes=(static) ;;
    *) echo "tarball.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
command -v pkg-config >/dev/null || { echo "tarball.sh: pkg-config not found (apt-get install pkg-config)" >&2; exit 1; }
command -v "${cc%% *}" >/dev/null || { echo "tarball.sh: no C compiler ($cc)" >&2; exit 1; }
command -v curl >/dev/null || { echo "tarball.sh: curl not found" >&2; exit 1; }
t0=$SECONDS
work="$(mktemp -d)"
sim_pid=""
# The script's own status is kept: the simulator's, killed here (143), must not replace it.
cleanup() {
  local rc=$?
  if [[ -n $sim_pid ]]; then
    kill "$sim_pid" 2>/dev/null || true
    wait "$sim_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
  exit "$rc"
}
trap cleanup EXIT
fail() { echo "FAIL $*" >&2; exit 1; }

[[ -n $tarball ]] || tarball="$(bindings/c/package.sh "${pkg_args[@]}" "$work/out" | tail -n 1)"
[[ -f $tarball ]] || fail "no $tarball"
name="$(basename "$tarball" .tar.gz)"
if command -v sha256sum >/dev/null; then sum=(sha256sum -c --quiet); else sum=(shasum -a 256 -c -s); fi
(cd "$(dirname "$tarball")" && "${sum[@]}" "$name.tar.gz.sha256") || fail "checksum of $name.tar.gz"
mkdir "$work/unpacked"
tar -C "$work/unpacked" -xzf "$tarball"
prefix="$work/unpacked/$name"
case "$(uname -s)" in
  Darwin) so=libopenclaw_rocketchat.dylib libpath=DYLD_LIBRARY_PATH ;;
  *) so=libopenclaw_rocketchat.so libpath=LD_LIBRARY_PATH ;;
esac
for f in "lib/$so" lib/libopenclaw_rocketchat.a lib/pkgconfig/openclaw_rocketchat.pc \
  include/openclaw_rocketchat.h README.md LICENSE; do
  [[ -e "$prefix/$f" ]] || fail "$name.tar.gz has no $f"
done
# Relocatable: nothing in the .pc may point at this checkout or the build dir.
! grep -qF "$root" "$prefix/lib/pkgconfig/openclaw_rocketchat.pc" || fail "the .pc names $root"
echo "ok   $name.tar.gz: $(du -h "$tarball" | cut -f1), $(tar -tzf "$tarball" | grep -vc '/$') files"

export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
unset PKG_CONFIG_LIBDIR PKG_CONFIG_SYSROOT_DIR
version="$(pkg-config --modversion openclaw_rocketchat)"
libdir="$(pkg-config --variable=libdir openclaw_rocketchat)"
[[ "$(cd "$libdir" && pwd -P)" == "$(cd "$prefix/lib" && pwd -P)" ]] || fail "pkg-config's libdir $libdir is not the tarball's lib/"
# shellcheck disable=SC2207  # pkg-config's output is meant to be word-split
dyn_flags=($(pkg-config --cflags --libs openclaw_rocketchat))
static_flags=()
for f in $(pkg-config --static --cflags --libs openclaw_rocketchat); do
  [[ $f == -lopenclaw_rocketchat ]] && f="$libdir/libopenclaw_rocketchat.a"
  static_flags+=("$f")
done
[[ ${modes[*]} == static ]] && static_flags+=(-static)
cflags=(-std=c11 -Wall -Wextra -Werror -pedantic) # as tests/c_programs.rs compiles them
# shellcheck disable=SC2086  # $cc may be a command with arguments
for prog in smoke roundtrip; do
  [[ ${modes[*]} == static ]] || $cc "${cflags[@]}" "tests/c/$prog.c" -o "$work/$prog-dynamic" "${dyn_flags[@]}"
  $cc "${cflags[@]}" "tests/c/$prog.c" -o "$work/$prog-static" "${static_flags[@]}"
done
if command -v readelf >/dev/null && [[ $so == *.so ]]; then
  ! readelf -d "$work/smoke-static" | grep -q 'libopenclaw_rocketchat' || fail "smoke-static needs the shared library"
  if [[ ${modes[*]} == static ]]; then
    ! readelf -d "$work/smoke-static" | grep -q 'NEEDED' || fail "smoke-static (-static) needs shared libraries"
  else
    readelf -d "$work/smoke-dynamic" | grep -q 'NEEDED.*libopenclaw_rocketchat' || fail "smoke-dynamic does not link the shared library"
    ! readelf -d "$work/smoke-dynamic" | grep -qE 'R(UN)?PATH' || fail "smoke-dynamic has an rpath"
  fi
fi
[[ ${modes[*]} == static ]] || echo "ok   pkg-config $version: dynamic: ${dyn_flags[*]//$prefix/<tarball>}"
echo "ok   pkg-config --static: ${static_flags[*]//$prefix/<tarball>}"

# run_prog SECONDS PROGRAM ARGS...: only the tarball's lib/ on the loader path, never the build
# dir; with a time limit where timeout(1) exists (not on a bare macOS).
run_prog() {
  local limit=$1
  shift
  # shellcheck disable=SC2086  # $run_with may be a command with arguments
  [[ -z $run_with ]] || set -- $run_with "$@"
  if command -v timeout >/dev/null; then set -- timeout "$limit" "$@"; fi
  env -u LD_LIBRARY_PATH -u DYLD_LIBRARY_PATH "$libpath=$libdir" "$@"
}

for mode in "${modes[@]}"; do
  out="$(run_prog 60 "$work/smoke-$mode")" || fail "smoke ($mode) exited $?: $out"
  [[ $out == *"checks passed"* ]] || fail "smoke ($mode): $out"
  echo "ok   smoke ($mode): $(printf '%s\n' "$out" | tail -n 1)"
done

sim="${ROCKETCHAT_SIM_BIN:-${CARGO_TARGET_DIR:-$root/target}/debug/rocketchat-sim}"
[[ -x $sim ]] || cargo build -q --locked -p rocketchat-sim --bin rocketchat-sim
"$sim" --port 0 >"$work/sim.out" 2>"$work/sim.err" &
sim_pid=$!
url=""
for _ in $(seq 150); do
  url="$(sed -n 's/.*ROCKETCHAT_SIM_URL=\([^[:space:]]*\).*/\1/p' "$work/sim.out" | head -n 1)"
  [[ -n $url ]] && break
  kill -0 "$sim_pid" 2>/dev/null || fail "rocketchat-sim exited: $(cat "$work/sim.err")"
  sleep 0.1
done
[[ -n $url ]] || fail "rocketchat-sim printed no URL in 15 s"
json_str() { local s=${1//\\/\\\\}; s=${s//\"/\\\"}; printf '"%s"' "$s"; }
for mode in "${modes[@]}"; do
  since="$(date -u +%Y-%m-%dT%H:%M:%S.000Z)"
  # The program's stdout, line by line: POST lines are the harness's cue.
  if ! run_prog 90 "$work/roundtrip-$mode" "$url" 2>"$work/roundtrip-$mode.err" | while IFS= read -r line; do
    printf '%s\n' "$line" >>"$work/roundtrip-$mode.out"
    if [[ $line == "POST "* ]]; then
      rest=${line#POST }
      curl -fsS -o /dev/null -X POST "$url/_sim/post" -H 'content-type: application/json' \
        -d "{\"user\":\"alice\",\"rid\":$(json_str "${rest%% *}"),\"msg\":$(json_str "${rest#* }")}"
    fi
  done; then
    fail "roundtrip ($mode):$(printf '\n%s' "$(cat "$work/roundtrip-$mode.out" 2>/dev/null)" "$(tail -n 20 "$work/roundtrip-$mode.err")")"
  fi
  grep -q "checks passed" "$work/roundtrip-$mode.out" || fail "roundtrip ($mode): $(cat "$work/roundtrip-$mode.out")"
  said="$(curl -fsS "$url/_sim/messages?rid=GENERAL&user=mybot&since=$since")"
  for want in "pong from C" "pong via callback"; do
    [[ $said == *"\"$want\""* ]] || fail "roundtrip ($mode): mybot did not say \"$want\" in #general: $said"
  done
  echo "ok   roundtrip ($mode) against rocketchat-sim: $(tail -n 1 "$work/roundtrip-$mode.out"), mybot answered twice"
done
echo "C tarball ok in $((SECONDS - t0)) s"
