#!/usr/bin/env bash
# Prepares the machine (scripts/setup.sh), then runs `gantry demo`; arguments go to the command.
# Usage: bash scripts/demo.sh [demo args…]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
printf '==> running the demo: gantry demo %s\n' "$*"
exec npx tsx src/cli/main.ts demo "$@"
