#!/usr/bin/env bash
# Builds gantry.local/busybox:1, the base image of the examples, without pulling anything:
# a root file system holding a static busybox and its applets, a few users, /tmp and /www,
# loaded with `docker import`. Skips the work when the image exists, unless --force.
# Usage: bash scripts/base-image.sh [--force]
# Environment: GANTRY_BUSYBOX=/path/to/static/busybox (default /bin/busybox, from busybox-static).
set -euo pipefail

IMAGE=gantry.local/busybox:1
BUSYBOX="${GANTRY_BUSYBOX:-/bin/busybox}"

say() { printf '==> %s\n' "$*"; }
fail() {
  printf 'base-image: %s\n' "$*" >&2
  exit 1
}

force=0
case "${1:-}" in
  --force) force=1 ;;
  "") ;;
  *) fail "unknown argument: $1 (usage: base-image.sh [--force])" ;;
esac

if [ "$force" = 0 ] && docker image inspect "$IMAGE" >/dev/null 2>&1; then
  say "base image $IMAGE present"
  exit 0
fi

[ -x "$BUSYBOX" ] || fail "no busybox at $BUSYBOX; install busybox-static (or set GANTRY_BUSYBOX)"

say "building base image $IMAGE from $BUSYBOX"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
rootfs="$tmp/rootfs"
mkdir -p "$rootfs"/{bin,sbin,usr/bin,usr/sbin,etc,root,home/app,www,proc,sys,dev,var/log}
cp "$BUSYBOX" "$rootfs/bin/busybox"
chmod 0755 "$rootfs/bin/busybox"

# One symlink per applet, where a distribution would put it (so `#!/usr/bin/env sh` works too).
if applets="$("$BUSYBOX" --list-full 2>/dev/null)"; then
  while IFS= read -r path; do
    if [ -z "$path" ] || [ "$path" = bin/busybox ]; then continue; fi
    mkdir -p "$rootfs/$(dirname "$path")"
    ln -sf /bin/busybox "$rootfs/$path"
  done <<<"$applets"
else
  for applet in $("$BUSYBOX" --list); do
    [ "$applet" = busybox ] || ln -sf /bin/busybox "$rootfs/bin/$applet"
  done
fi
[ -e "$rootfs/bin/sh" ] || fail "$BUSYBOX has no sh applet"

# `app` (10001) is the user examples run as; `nobody` for anything that wants no rights at all.
cat >"$rootfs/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
app:x:10001:10001:app:/home/app:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
EOF
cat >"$rootfs/etc/group" <<'EOF'
root:x:0:
app:x:10001:
nogroup:x:65534:
EOF
echo 'hosts: files dns' >"$rootfs/etc/nsswitch.conf"
chmod 0644 "$rootfs/etc/passwd" "$rootfs/etc/group" "$rootfs/etc/nsswitch.conf"
mkdir -p "$rootfs/tmp"
chmod 1777 "$rootfs/tmp"
chmod 0700 "$rootfs/root"
chmod 0755 "$rootfs/www" "$rootfs/home/app"

# Everything belongs to root but the home of `app`, appended with its own owner (works unprivileged).
tar --numeric-owner --owner=0 --group=0 --exclude=./home/app -C "$rootfs" -cf "$tmp/rootfs.tar" .
tar --numeric-owner --owner=10001 --group=10001 -C "$rootfs" -rf "$tmp/rootfs.tar" ./home/app

docker import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'CMD ["/bin/sh"]' \
  --change 'LABEL org.opencontainers.image.title=gantry-busybox' \
  --message "gantry base image: static busybox from $BUSYBOX (scripts/base-image.sh)" \
  "$tmp/rootfs.tar" "$IMAGE" >/dev/null

# Check it works as a base: a container runs, and a Dockerfile with a RUN step builds FROM it.
out="$(docker run --rm --network none "$IMAGE" echo ok 2>&1)" ||
  fail "a container from $IMAGE does not run: $out"
[ "$out" = ok ] || fail "a container from $IMAGE printed '$out' instead of 'ok'"
mkdir -p "$tmp/check"
cat >"$tmp/check/Dockerfile" <<EOF
FROM $IMAGE
RUN echo built >/tmp/built && id app
USER app
RUN test "\$(id -u)" = 10001 && touch /home/app/writable
EOF
check_tag="gantry.local/base-image-check:$$"
if ! out="$(docker build --network none -q -t "$check_tag" "$tmp/check" 2>&1)"; then
  fail "a Dockerfile FROM $IMAGE does not build:
$out"
fi
docker image rm -f "$check_tag" >/dev/null 2>&1 || true
say "base image $IMAGE ready"
