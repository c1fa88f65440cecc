#!/usr/bin/env bash
# Build the Node binding and the simulator (debug), then run the Node tests.
#   tests/node/run.sh [extra node --test args]
# Honours CARGO_TARGET_DIR; ROCKETCHAT_SIM_BIN and ROCKETCHAT_NODE_BINDING override the paths.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
bash bindings/node/build.sh >/dev/null
cargo build -p rocketchat-sim --bin rocketchat-sim
# The contract test drives the C library too (tests/c/rpc.c).
cargo build -p rocketchat-c
# Two test files at a time: most of each file is waiting on the simulator or a child process.
exec node --test --test-concurrency=2 "$@" tests/node/
