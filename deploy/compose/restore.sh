#!/usr/bin/env bash
# Restores a backup made by deploy/compose/backup.sh into the volumes of a stopped compose install
# (`docker-compose down` first; the volumes may be new and empty). Start it again with `up -d`.
# Usage: bash deploy/compose/restore.sh DIR
set -euo pipefail
dir="$(cd "${1:?usage: restore.sh DIR}" && pwd)"
[ -f "$dir/redis-aof.tar" ] && [ -f "$dir/registry.tar" ] || {
  echo "restore: $dir has no redis-aof.tar and registry.tar" >&2
  exit 1
}
compose() { docker-compose "$@"; }
if [ -n "$(compose ps -q redis gantry 2>/dev/null)" ]; then
  echo 'restore: stop the install first (docker-compose down)' >&2
  exit 1
fi
# Replaced whole: a leftover file of a newer AOF would be listed by no manifest, or the wrong one.
compose run --rm --no-deps -T -v "$dir:/backup:ro" --entrypoint sh redis \
  -c 'rm -rf /data/appendonlydir && tar -C /data -xf /backup/redis-aof.tar'
compose run --rm --no-deps -T -v "$dir:/backup:ro" --entrypoint sh registry \
  -c 'tar -C /var/lib/registry -xf /backup/registry.tar'
echo "restored from $dir; start with: docker-compose up -d"
