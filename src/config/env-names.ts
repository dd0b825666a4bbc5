/**
 * How an app environment's names are built for the runtime and the edge (route ids, container
 * names, Kubernetes objects), so that two different (app, env) pairs never map to one name.
 *
 * App and environment names start with a letter, do not end with "-" and never contain "--"
 * (app-spec-schema.ts), so `app--env` splits in exactly one place: `shop-api--prod` and
 * `shop--api-prod` are different strings, where `shop-api-prod` was both. Names that would pass a
 * length limit are cut and end in `---<hash>`: a "---" can never occur in an uncut name (that would
 * need a name ending or starting with "-"), so a cut name never equals an uncut one, and the hash
 * of the whole name keeps two cut names apart.
 *
 * Names built before this scheme (`app-env`) never contain "--", so they cannot meet a new one
 * either; they stay where they are recorded (an environment's `route.id`).
 */
import { createHash } from 'node:crypto';

/** Between an app and an environment name; neither may contain it. */
export const NAME_SEPARATOR = '--';

/** What ends a name that was cut to fit: `---` and a hash of the whole name. */
const CUT_MARK = '---';
const HASH_CHARS = 10;

/** Route ids fit in a Kubernetes label value (63) with `gantry-` in front (the Service name). */
export const ROUTE_ID_MAX = 56;

/** `raw` itself when it has at most `max` characters, else a prefix and a hash of all of it. */
export function boundedName(raw: string, max: number): string {
  if (raw.length <= max) return raw;
  const hash = createHash('sha256').update(raw).digest('hex').slice(0, HASH_CHARS);
  const keep = Math.max(0, max - CUT_MARK.length - HASH_CHARS);
  return `${raw.slice(0, keep).replace(/-+$/, '')}${CUT_MARK}${hash}`;
}

/** `app--env`, cut to `max` characters with a hash when longer: one name per app environment. */
export function envKey(app: string, env: string, max = Infinity): string {
  return boundedName(`${app}${NAME_SEPARATOR}${env}`, max);
}

/** The edge route id of a newly deployed environment (older ones keep the id in their state). */
export function routeIdOf(app: string, env: string): string {
  return envKey(app, env, ROUTE_ID_MAX);
}
