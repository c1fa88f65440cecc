#!/usr/bin/env bash
# The OpenClaw versions the end-to-end suite runs against, one per line:
#   1. the newest openclaw on npm now (`npm view openclaw version`; when the registry cannot say,
#      the pin in setup.sh, and one loud "!!!" line on stderr)
#   2. the oldest version npm/package.json's peerDependencies declare (">=VERSION")
# run.sh runs the full suite on the first and the interface cases on the second; scripts/setup
# installs both ahead of time.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
oldest="$(cd "$root" && node -p 'require("./npm/package.json").peerDependencies.openclaw.match(/^>=\s*(\S+)$/)?.[1] ?? ""')"
[[ -n "$oldest" ]] || { echo "tests/e2e/versions.sh: npm/package.json peerDependencies.openclaw is not \">=VERSION\"" >&2; exit 1; }
if ! newest="$(timeout 60 npm view openclaw version 2>/dev/null)" || [[ -z "$newest" ]]; then
  newest="$(sed -n 's/^OPENCLAW_VERSION="\(.*\)"$/\1/p' "$here/setup.sh")"
  echo "!!! the npm registry did not say which openclaw is newest: the suite runs against the pinned $newest" >&2
fi
printf '%s\n%s\n' "$newest" "$oldest"
