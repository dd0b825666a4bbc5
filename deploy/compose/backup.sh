#!/usr/bin/env bash
# Backs up a running compose install of Gantry into DIR: Redis's append-only files (the queues,
# rollout history, releases, encrypted secrets) and the registry's volume (every image built).
# Run from the directory of docker-compose.yml, with the same COMPOSE_PROJECT_NAME/COMPOSE_FILE.
# Usage: bash deploy/compose/backup.sh DIR        Restore: deploy/compose/restore.sh DIR
set -euo pipefail
dir="${1:?usage: backup.sh DIR}"
mkdir -p "$dir"
compose() { docker-compose "$@"; }
cli() { compose exec -T redis redis-cli "$@" | tr -d '\r'; }

# Redis 7 writes its AOF as several files that a rewrite replaces: a copy is consistent only while
# no rewrite runs, so automatic rewrites are off for the copy and on again after (Redis's own advice).
percentage="$(cli config get auto-aof-rewrite-percentage | tail -n 1)"
trap 'cli config set auto-aof-rewrite-percentage "$percentage" >/dev/null' EXIT
cli config set auto-aof-rewrite-percentage 0 >/dev/null
until cli info persistence | grep -q '^aof_rewrite_in_progress:0'; do sleep 1; done
compose exec -T redis tar -C /data -c appendonlydir >"$dir/redis-aof.tar"

# Blobs are content-addressed and written before the manifests that name them: a copy taken while
# the registry runs holds no manifest without its blobs.
compose run --rm --no-deps -T --entrypoint tar registry -C /var/lib/registry -c . >"$dir/registry.tar"
printf 'backed up to %s: %s\n' "$dir" "$(cd "$dir" && du -h redis-aof.tar registry.tar | tr '\n\t' '  ')"
