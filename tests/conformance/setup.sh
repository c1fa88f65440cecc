#!/usr/bin/env bash
# Install the pinned conformance clients into project-local folders (never global):
#   tests/conformance/.venv           Python 3.11 venv from python/requirements.txt
#   tests/conformance/node/node_modules  `npm ci` from node/package-lock.json
# Idempotent (re-installs only when a pin file changed), quiet on success, loud on failure.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT

run() { # run quietly; on failure show the output and stop
  if ! "$@" >>"$log" 2>&1; then
    echo "setup.sh: FAILED: $*" >&2
    cat "$log" >&2
    exit 1
  fi
}

stamp_ok() { [[ -f "$2" ]] && cmp -s "$1" "$2"; }

# --- Python -------------------------------------------------------------------
py="${PYTHON:-python3.11}"
command -v "$py" >/dev/null || py=python3
run "$py" -c 'import sys; assert sys.version_info >= (3, 11), sys.version'
venv="$here/.venv"
if ! stamp_ok "$here/python/requirements.txt" "$venv/.requirements.installed"; then
  [[ -x "$venv/bin/python" ]] || run "$py" -m venv "$venv"
  run "$venv/bin/python" -m pip install --disable-pip-version-check -q -r "$here/python/requirements.txt"
  cp "$here/python/requirements.txt" "$venv/.requirements.installed"
fi
run "$venv/bin/python" -c 'import rocketchat_async, rocketchat_API.rocketchat, websockets, requests, pytest'

# --- Node ---------------------------------------------------------------------
run node -e 'const [maj] = process.versions.node.split("."); if (+maj < 20) throw new Error("Node >= 20 needed, have " + process.version)'
nm="$here/node/node_modules"
if ! stamp_ok "$here/node/package-lock.json" "$nm/.package-lock.installed"; then
  (cd "$here/node" && run npm ci --no-audit --no-fund --loglevel=error)
  cp "$here/node/package-lock.json" "$nm/.package-lock.installed"
fi
(cd "$here/node" && run node -e '
  globalThis.WebSocket ??= require("ws");
  for (const m of ["@rocket.chat/ddp-client", "@rocket.chat/api-client", "@rocket.chat/sdk",
                   "simpleddp", "simpleddp-plugin-login", "@rocket.chat/emitter", "ws"]) require(m);
  if (require("asteroid/package.json").version !== "0.6.1") throw new Error("asteroid override lost");
  if (require("typia/package.json").version !== "9.7.2") throw new Error("typia override lost");')
