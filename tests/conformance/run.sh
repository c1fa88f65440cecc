#!/usr/bin/env bash
# Run the third-party client conformance suite against rocketchat-sim.
#   ROCKETCHAT_SIM_BIN  simulator binary (default: target/debug/rocketchat-sim, built here if unset)
# Exits non-zero if setup, the Python suite or the Node suite fails.
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"

"$here/setup.sh" || exit 1

if [[ -z "${ROCKETCHAT_SIM_BIN:-}" ]]; then
  (cd "$root" && cargo build -q -p rocketchat-sim --bin rocketchat-sim) || { echo "run.sh: building rocketchat-sim failed" >&2; exit 1; }
fi

status=0
(cd "$here/python" && "$here/.venv/bin/python" -m pytest -q) || status=1
# One file at a time: the reconnect scenarios wait on timers, and six client files plus their
# simulators at once on a 2-core CI box made one of them miss its window now and then.
(cd "$here/node" && node --test --test-concurrency=1) || status=1
exit $status
