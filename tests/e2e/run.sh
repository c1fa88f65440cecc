#!/usr/bin/env bash
# What CI can run today: install, gateway + fake-model smoke turn, plugin load path.
# (tests/e2e/e2e.mjs, the full test with the simulator, fails until the native core is wired in.)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
"$here/setup.sh"
node "$here/gateway.mjs" smoke
node "$here/plugin-load.mjs"
