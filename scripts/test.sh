#!/usr/bin/env bash
# Prepares the machine (scripts/setup.sh), then runs the test suite; arguments go to `vitest run`.
# Usage: bash scripts/test.sh [vitest args…]   e.g. bash scripts/test.sh test/unit
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# The UI tests drive a real Chromium, so the test run installs it too.
GANTRY_WITH_BROWSER=1 bash scripts/setup.sh
printf '==> running the tests: vitest run %s\n' "$*"
exec npx vitest run "$@"
