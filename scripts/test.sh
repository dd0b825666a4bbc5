#!/usr/bin/env bash
# Prepares the machine (scripts/setup.sh), then runs the test suite; arguments go to `vitest run`.
# Usage: bash scripts/test.sh [vitest args…]   e.g. bash scripts/test.sh test/unit
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# The UI tests drive a real Chromium, so the test run installs it too.
GANTRY_WITH_BROWSER=1 bash scripts/setup.sh
# The Kubernetes suites run against the real control plane of test/kube when its binaries are
# built on this machine, or can be built within GANTRY_KUBE_BUILD_MINUTES (default 45; the first
# build took 36 min on a loaded 2-core machine, and one cut short resumes from Go's build cache
# the next run); else against the simulator (test/kube-sim). GANTRY_KUBE=real|sim decides instead.
if [[ -z "${GANTRY_KUBE:-}" ]]; then
  if bash scripts/kube-infra.sh --path >/dev/null 2>&1; then
    export GANTRY_KUBE=real
  elif command -v go >/dev/null && [[ "${GANTRY_KUBE_BUILD_MINUTES:-45}" != 0 ]]; then
    printf '==> building the Kubernetes control plane for the tests (at most %s min)\n' \
      "${GANTRY_KUBE_BUILD_MINUTES:-45}"
    if timeout "${GANTRY_KUBE_BUILD_MINUTES:-45}m" bash scripts/kube-infra.sh >/dev/null; then
      export GANTRY_KUBE=real
    else
      printf '==> not built in time: the Kubernetes suites use the simulator this run\n'
      export GANTRY_KUBE=sim
    fi
  else
    export GANTRY_KUBE=sim
  fi
fi
printf '==> Kubernetes suites against: %s\n' "$([[ $GANTRY_KUBE == real ]] && echo 'the real control plane (test/kube)' || echo 'the simulator (test/kube-sim)')"
printf '==> running the tests: vitest run %s\n' "$*"
exec npx vitest run "$@"
