#!/usr/bin/env bash
# Builds local stand-ins for the images docker-compose.yml names, without pulling anything, so the
# compose install can be brought up on a machine that cannot reach a registry (the test suite's):
#   gantry.local/debian:bookworm          debootstrap + `docker import`: Debian's redis-server,
#                                         docker-registry, caddy and the C++ runtime Node needs
#   gantry.local/redis:7                  for redis:7 (WORKDIR /data, protected mode off like it)
#   gantry.local/registry:2               for registry:2 (same config file, store and port)
#   gantry.local/node:20-bookworm-slim    for node:20-bookworm-slim: this machine's Node 20 and npm
#                                         (bookworm's nodejs is 18) with an offline npm cache, so
#                                         the Dockerfile's `npm ci` needs no registry either
# Each image carries a hash of its inputs and is rebuilt only when they change (or --force).
# Prints the variables that point docker-compose.yml at them (GANTRY_*_IMAGE=…), one a line.
# Usage: bash scripts/compose-images.sh [--force]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

BASE=gantry.local/debian:bookworm
SUITE=bookworm
MIRROR="${GANTRY_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
PACKAGES=redis-server,docker-registry,caddy,ca-certificates,libstdc++6
LABEL=dev.gantry.standin.inputs
LOGS=.gantry/logs
mkdir -p "$LOGS"

say() { printf '==> %s\n' "$*" >&2; }
fail() {
  printf 'compose-images: %s\n' "$*" >&2
  exit 1
}
force=0
case "${1:-}" in
  --force) force=1 ;;
  "") ;;
  *) fail "unknown argument: $1 (usage: compose-images.sh [--force])" ;;
esac

hash_of() { sha256sum | cut -c1-16; }
# Whether `image` exists and was built from inputs hashing to `want`.
current() {
  [ "$force" = 0 ] &&
    [ "$(docker image inspect -f "{{index .Config.Labels \"$LABEL\"}}" "$1" 2>/dev/null)" = "$2" ]
}
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# --- the Debian base -----------------------------------------------------------------------------

# Bump RECIPE when the steps below change what the base holds.
RECIPE=1
base_inputs="$(printf '%s\n' "$SUITE" "$PACKAGES" "$RECIPE" | hash_of)"
if current "$BASE" "$base_inputs"; then
  say "$BASE present"
else
  if ! command -v debootstrap >/dev/null; then
    [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null || fail "debootstrap is missing; install it"
    say "installing debootstrap with apt (log: $LOGS/apt.log)"
    # Package lists may be missing on a fresh machine: update once, only when the install fails.
    install() { DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends debootstrap; }
    { install || { apt-get update && install; }; } >>"$LOGS/apt.log" 2>&1 ||
      fail "apt could not install debootstrap; see $LOGS/apt.log"
  fi
  [ "$(id -u)" = 0 ] || fail "debootstrap needs root"
  say "debootstrap $SUITE with $PACKAGES (log: $LOGS/debootstrap.log; a few minutes)"
  rootfs="$tmp/rootfs"
  debootstrap --variant=minbase --include="$PACKAGES" "$SUITE" "$rootfs" "$MIRROR" \
    >"$LOGS/debootstrap.log" 2>&1 || fail "debootstrap failed; see $LOGS/debootstrap.log"
  # What an image does not need: downloaded packages, package lists, the chroot's device nodes.
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* "$rootfs"/dev/* \
    "$rootfs"/proc/* "$rootfs"/sys/*
  tar --numeric-owner -C "$rootfs" -c . | docker import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD ["bash"]' \
    --change "LABEL $LABEL=$base_inputs" \
    --message "Debian $SUITE minbase + $PACKAGES (scripts/compose-images.sh)" - "$BASE" >/dev/null
  rm -rf "$rootfs"
  say "$BASE built"
fi

# --- the stand-ins, each a small build on the base (no RUN needs the network) --------------------

base_id="$(docker image inspect -f '{{.Id}}' "$BASE")"
# Builds `image` from the context in $tmp/$1 unless its inputs (the context's files) are unchanged;
# `prepare` (optional) then adds what the hash must not see.
build_standin() {
  local dir="$tmp/$1" image="$2" prepare="${3:-:}" inputs
  inputs="$( (
    echo "$base_id"
    cd "$dir" && find . -type f -print0 | sort -z | xargs -0 sha256sum
  ) | hash_of)"
  if current "$image" "$inputs"; then
    say "$image present"
    return
  fi
  "$prepare" "$dir"
  say "building $image"
  echo "LABEL $LABEL=$inputs" >>"$dir/Dockerfile"
  docker build --network none -q -t "$image" "$dir" >"$LOGS/compose-images-build.log" 2>&1 || {
    tail -n 20 "$LOGS/compose-images-build.log" >&2
    fail "building $image failed; see $LOGS/compose-images-build.log"
  }
}

mkdir -p "$tmp/redis"
cat >"$tmp/redis/entrypoint.sh" <<'EOF'
#!/bin/sh
# As the official image does: without a config file, a Redis reached through a published port
# (from the bridge's gateway, not loopback) would refuse every command in protected mode.
if [ "${1:-}" = redis-server ]; then
  shift
  set -- redis-server --protected-mode no "$@"
fi
exec "$@"
EOF
cat >"$tmp/redis/Dockerfile" <<EOF
FROM $BASE
COPY entrypoint.sh /usr/local/bin/docker-entrypoint.sh
WORKDIR /data
VOLUME /data
EXPOSE 6379
ENTRYPOINT ["sh", "/usr/local/bin/docker-entrypoint.sh"]
CMD ["redis-server"]
EOF
build_standin redis gantry.local/redis:7

mkdir -p "$tmp/registry"
# The official image's config (distribution's cmd/registry/config-example.yml): no auth, the
# store at /var/lib/registry. Debian's own enables htpasswd auth.
cat >"$tmp/registry/config.yml" <<'EOF'
version: 0.1
log:
  fields:
    service: registry
storage:
  cache:
    blobdescriptor: inmemory
  filesystem:
    rootdirectory: /var/lib/registry
http:
  addr: :5000
  headers:
    X-Content-Type-Options: [nosniff]
health:
  storagedriver:
    enabled: true
    interval: 10s
    threshold: 3
EOF
cat >"$tmp/registry/Dockerfile" <<EOF
FROM $BASE
COPY config.yml /etc/docker/registry/config.yml
VOLUME /var/lib/registry
EXPOSE 5000
ENTRYPOINT ["docker-registry", "serve"]
CMD ["/etc/docker/registry/config.yml"]
EOF
build_standin registry gantry.local/registry:2

# Node: this machine's binary (dynamically linked against glibc and libstdc++, both in bookworm),
# its npm, and the npm cache that `npm ci` on this machine filled, read offline.
node_bin="$(command -v node)"
npm_dir="$(dirname "$(readlink -f "$(command -v npm)")")/.."
npm_cache="$(npm config get cache)/_cacache"
[ "$("$node_bin" -p 'process.versions.node.split(".")[0]')" = 20 ] || fail "$node_bin is not Node 20"
[ -d "$npm_cache" ] || fail "no npm cache at $npm_cache (run npm ci once)"
mkdir -p "$tmp/node"
cp "$node_bin" "$tmp/node/node"
cp -r "$(readlink -f "$npm_dir")" "$tmp/node/npm"
# The cache is large and changes with every install: the context's hash sees the lockfile instead.
cp package-lock.json "$tmp/node/package-lock.json"
cat >"$tmp/node/Dockerfile" <<EOF
FROM $BASE
COPY node /usr/local/bin/node
COPY npm /usr/local/lib/node_modules/npm
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \
 && groupadd -g 1000 node && useradd -u 1000 -g node -m -s /bin/bash node
COPY _cacache /root/.npm/_cacache
ENV npm_config_offline=true
CMD ["node"]
EOF
copy_npm_cache() { cp -r "$npm_cache" "$1/_cacache"; }
build_standin node gantry.local/node:20-bookworm-slim copy_npm_cache

# The versions these replaced (untagged now, and only ever ours: they carry the label); one still
# used by a container stays.
docker images -q --filter dangling=true --filter "label=$LABEL" | sort -u |
  xargs -r docker image rm >/dev/null 2>&1 || true

echo "GANTRY_REDIS_IMAGE=gantry.local/redis:7"
echo "GANTRY_REGISTRY_IMAGE=gantry.local/registry:2"
echo "GANTRY_NODE_IMAGE=gantry.local/node:20-bookworm-slim"
