#!/usr/bin/env bash
# Prepares this machine for Gantry's tests and demo, idempotently:
#   - as root on Debian: installs the missing system packages with apt;
#   - elsewhere: checks each requirement and says what to provide;
#   - starts the Docker engine if it does not answer;
#   - installs the npm dependencies with `npm ci` when node_modules is missing or stale;
#   - builds the local base image (gantry.local/busybox:1) when missing.
# Environment: GANTRY_WITH_BROWSER=1 also installs chromium (UI tests);
#              GANTRY_BUSYBOX=/path points at a static busybox elsewhere than /bin/busybox.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
LOGS=.gantry/logs
mkdir -p "$LOGS"

say() { printf '==> %s\n' "$*"; }
fail() {
  printf 'setup: %s\n' "$*" >&2
  exit 1
}
# Last lines of a log, indented, to explain a failure.
tail_log() { tail -n "${2:-30}" "$1" 2>/dev/null | sed 's/^/    /' >&2 || true; }

# --- what is there -------------------------------------------------------------------------------

have() { command -v "$1" >/dev/null 2>&1; }
docker_ok() {
  have docker || return 1
  if have timeout; then timeout 20 docker info >/dev/null 2>&1; else docker info >/dev/null 2>&1; fi
}
# The daemon, not the client: a newer client elsewhere on PATH may shadow Debian's.
dockerd_bin() {
  if have dockerd; then
    command -v dockerd
  elif [ -x /usr/sbin/dockerd ]; then
    echo /usr/sbin/dockerd
  else
    return 1
  fi
}
busybox_bin() { echo "${GANTRY_BUSYBOX:-/bin/busybox}"; }
# The base image copies busybox into an empty root file system, so it must be statically linked.
busybox_static() {
  local bb
  bb="$(busybox_bin)"
  [ -x "$bb" ] || return 1
  if have ldd; then
    # ldd fails on a static binary: read its words, not its exit status.
    case "$(ldd "$bb" 2>&1 || true)" in
      *"not a dynamic executable"* | *"statically linked"*) return 0 ;;
      *) return 1 ;;
    esac
  else
    "$bb" true
  fi
}
node_ok() { have node && [ "$(node -p 'process.versions.node.split(".")[0]')" -ge 20 ]; }
apparmor_on() { [ "$(cat /sys/module/apparmor/parameters/enabled 2>/dev/null)" = Y ]; }

# Debian packages that are missing, one per line.
missing_packages() {
  if ! have docker || { ! docker_ok && ! dockerd_bin >/dev/null; }; then echo docker.io; fi
  # Docker needs apparmor_parser to load its default profile when the kernel enforces AppArmor.
  if apparmor_on && ! have apparmor_parser && ! [ -x /sbin/apparmor_parser ]; then echo apparmor; fi
  have redis-server || echo redis-server
  have docker-registry || echo docker-registry
  busybox_static || echo busybox-static
  have git || echo git
  have caddy || echo caddy
  # docker-compose.yml is checked with `docker-compose config` (test/integration/compose.test.ts).
  have docker-compose || docker compose version >/dev/null 2>&1 || echo docker-compose
  # The Helm chart is rendered in tests by Go text/template + sprig (test/support/chart-render).
  have go || echo golang-go
  [ -d /usr/share/gocode/src/github.com/Masterminds/sprig ] || echo golang-github-masterminds-sprig-dev
  [ -d /usr/share/gocode/src/sigs.k8s.io/yaml ] || echo golang-k8s-sigs-yaml-dev
  [ -f /etc/ssl/certs/ca-certificates.crt ] || echo ca-certificates
  if [ "${GANTRY_WITH_BROWSER:-0}" = 1 ] && ! have chromium; then echo chromium; fi
  # The API fuzzer (schemathesis, test/fuzz/) installs into a venv: python3 with venv and pip.
  have python3 || echo python3
  python3 -c 'import ensurepip, venv' 2>/dev/null || echo python3-venv
  return 0
}

# --- install (root on Debian) or report (anywhere else) ------------------------------------------

if [ "$(id -u)" = 0 ] && have apt-get && [ -f /etc/debian_version ]; then
  mapfile -t missing < <(missing_packages)
  if [ "${#missing[@]}" -gt 0 ]; then
    say "installing ${missing[*]} with apt (log: $LOGS/apt.log)"
    export DEBIAN_FRONTEND=noninteractive
    {
      apt-get update &&
        apt-get install -y --no-install-recommends "${missing[@]}"
    } >>"$LOGS/apt.log" 2>&1 || {
      tail_log "$LOGS/apt.log"
      fail "apt could not install ${missing[*]}; see $LOGS/apt.log"
    }
  else
    say "system packages present"
  fi
  node_ok || fail "Node.js >= 20 is required (found: $(node --version 2>/dev/null || echo none)); install it from https://nodejs.org or your distribution"
else
  say "not root on Debian: checking requirements instead of installing them"
  problems=()
  if ! docker_ok; then
    if dockerd_bin >/dev/null && [ "$(id -u)" = 0 ]; then
      : # the engine is installed and we may start it below
    else
      problems+=("a reachable Docker engine: \`docker info\` must succeed (install and start Docker, add your user to the docker group, or set DOCKER_HOST)")
    fi
  fi
  have redis-server || problems+=("redis-server (Redis >= 6) on PATH")
  have docker-registry || problems+=("docker-registry (the CNCF distribution registry v2, run as \`docker-registry serve CONFIG\`) on PATH")
  busybox_static || problems+=("a statically linked busybox at $(busybox_bin) (or set GANTRY_BUSYBOX=/path/to/busybox)")
  have git || problems+=("git on PATH")
  node_ok || problems+=("Node.js >= 20 (found: $(node --version 2>/dev/null || echo none))")
  have caddy || say "optional: caddy is not on PATH (needed later by the edge proxy)"
  if [ "${#problems[@]}" -gt 0 ]; then
    printf 'setup: missing requirements; please provide:\n' >&2
    printf '  - %s\n' "${problems[@]}" >&2
    printf 'or run this script as root on Debian to install them.\n' >&2
    exit 1
  fi
  say "requirements present"
fi

# --- Docker engine -------------------------------------------------------------------------------

if docker_ok; then
  say "docker engine running"
else
  dockerd="$(dockerd_bin)" || fail "the Docker engine does not answer and dockerd is not installed"
  [ "$(id -u)" = 0 ] || fail "the Docker engine does not answer; start it (dockerd needs root)"
  pidfile=/var/run/docker.pid
  if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
    say "dockerd is running (pid $(cat "$pidfile")) but does not answer yet; waiting for it"
  else
    say "starting dockerd in the background (log: $LOGS/dockerd.log)"
    # setsid + nohup: the engine outlives this script and its terminal; it is never stopped here.
    nohup setsid "$dockerd" >>"$LOGS/dockerd.log" 2>&1 </dev/null &
  fi
  for _ in $(seq 60); do
    docker_ok && break
    sleep 1
  done
  if ! docker_ok; then
    tail_log "$LOGS/dockerd.log"
    fail "the Docker engine did not answer within 60 s; see $LOGS/dockerd.log"
  fi
  say "docker engine running"
fi

# --- npm dependencies ----------------------------------------------------------------------------

# Installs come from package-lock.json alone (`npm ci`), so every machine gets the same tree. A lock
# out of sync with package.json is an error to fix in the repository, never papered over with
# `npm install` here: that would install a tree nobody reviewed. npm rewrites
# node_modules/.package-lock.json on every install: older than the lockfile = stale.
[ -f package-lock.json ] || fail "package-lock.json is missing; it is part of the repository (restore it with git)"
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ] ||
  [ package.json -nt node_modules/.package-lock.json ]; then
  say "installing npm dependencies: npm ci (log: $LOGS/npm.log)"
  : >"$LOGS/npm.log"
  if ! npm ci --no-audit --no-fund >>"$LOGS/npm.log" 2>&1; then
    tail_log "$LOGS/npm.log"
    if grep -q 'npm error code EUSAGE' "$LOGS/npm.log"; then
      fail "npm ci: package-lock.json is not in sync with package.json. Regenerate it with \`npm install --package-lock-only\`, review and commit the change, then run setup again"
    fi
    fail "npm ci failed; see $LOGS/npm.log"
  fi
else
  say "npm dependencies up to date"
fi

# --- API fuzzer ----------------------------------------------------------------------------------

# schemathesis, pinned, in a venv under ~/.cache/gantry-fuzz (test/fuzz/api-schemathesis.test.ts).
if have python3; then
  if ! bash scripts/fuzz-setup.sh >"$LOGS/fuzz-setup.log" 2>&1; then
    tail_log "$LOGS/fuzz-setup.log"
    fail "installing schemathesis failed; see $LOGS/fuzz-setup.log"
  fi
  say "API fuzzer ready: $(tail -n 1 "$LOGS/fuzz-setup.log")"
fi

# --- base image ----------------------------------------------------------------------------------

bash scripts/base-image.sh

say "machine ready"
