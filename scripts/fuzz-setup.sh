#!/usr/bin/env bash
# Installs schemathesis (the API fuzzer, test/fuzz/) into a venv in a cache dir, once.
# Idempotent: a venv that already has the pinned version is left alone. Prints the venv's path.
# Environment: GANTRY_FUZZ_HOME overrides the cache dir (default ~/.cache/gantry-fuzz).
set -euo pipefail

SCHEMATHESIS_VERSION=4.32.5
HOME_DIR="${GANTRY_FUZZ_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/gantry-fuzz}"
VENV="$HOME_DIR/venv"

if ! command -v python3 >/dev/null 2>&1; then
  echo 'fuzz-setup: python3 is missing; the API fuzz test will be skipped' >&2
  exit 0
fi
installed() {
  [ -x "$VENV/bin/schemathesis" ] &&
    [ "$("$VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("schemathesis"))' 2>/dev/null)" = "$SCHEMATHESIS_VERSION" ]
}
if ! installed; then
  mkdir -p "$HOME_DIR"
  # A venv cannot be moved (its scripts name their own path), so an interrupted one is redone.
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/python" -m pip install --quiet "schemathesis==$SCHEMATHESIS_VERSION"
fi
echo "$VENV"
