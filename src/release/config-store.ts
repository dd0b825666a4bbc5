/**
 * Config vars, secrets and the formation (replicas per process type) per app and environment, in
 * Redis (keys from src/store/keys.ts). Vars are plain; a secret is kept as sealed versions
 * (src/release/secret-box.ts) and shown only as "set, changed by X at T". A release records vars
 * by value, secrets by version and the formation, so rolling back to it restores exactly what
 * it ran with.
 */
import type { Redis } from 'ioredis';
import { GantryError } from '../errors.js';
import type { Keys } from '../store/keys.js';
import type { SecretBox } from './secret-box.js';

/** Environment variable names: what a POSIX shell and Docker accept. */
const NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
/** Names Gantry sets itself, never taken from config. */
const RESERVED = /^GANTRY_(APP|ENV|REVISION|RELEASE)$/;
const MAX_VALUE_BYTES = 64 * 1024;
const MAX_KEYS = 500;

export interface VarEntry {
  value: string;
  by: string;
  at: string;
}

export interface SecretEntry {
  version: number;
  by: string;
  at: string;
}

/** Replicas of one process type as `gantry scale` set them. */
export interface ScaleEntry {
  replicas: number;
  by: string;
  at: string;
}

/** What an environment's config is now: values of vars, only versions of secrets. */
export interface ConfigView {
  vars: Record<string, VarEntry>;
  secrets: Record<string, SecretEntry>;
  /** The formation: process types `gantry scale` named; the others run their spec's replicas. */
  scale: Record<string, ScaleEntry>;
}

/** The config a release runs with: vars by value, secrets by version. */
export interface ConfigSnapshot {
  vars: Record<string, string>;
  secrets: Record<string, number>;
  /**
   * Replicas per process type set by `gantry scale` (the formation); a process not named here
   * runs the replicas its `gantry.yaml` gives. Absent on releases made before scaling existed.
   */
  scale?: Record<string, number>;
}

export interface ConfigChange {
  vars?: Record<string, string> | undefined;
  secrets?: Record<string, string> | undefined;
  unset?: readonly string[] | undefined;
}

/** The keys a change touched, for the release's description (never values). */
export interface ChangedKeys {
  set: string[];
  secrets: string[];
  unset: string[];
}

export class ConfigStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
    /** Undefined when no secrets key is configured: vars still work, secrets refuse. */
    private readonly box: SecretBox | undefined,
  ) {}

  async view(app: string, env: string): Promise<ConfigView> {
    const [vars, secrets, scale] = await Promise.all([
      this.redis.hgetall(this.keys.configVars(app, env)),
      this.redis.hgetall(this.keys.configSecrets(app, env)),
      this.redis.hgetall(this.keys.configScale(app, env)),
    ]);
    return {
      vars: mapValues(vars, (v) => JSON.parse(v) as VarEntry),
      secrets: mapValues(secrets, (v) => JSON.parse(v) as SecretEntry),
      scale: mapValues(scale, (v) => JSON.parse(v) as ScaleEntry),
    };
  }

  async snapshot(app: string, env: string): Promise<ConfigSnapshot> {
    const view = await this.view(app, env);
    const scale = mapValues(view.scale, (e) => e.replicas);
    return {
      vars: mapValues(view.vars, (e) => e.value),
      secrets: mapValues(view.secrets, (e) => e.version),
      // Absent rather than empty: a release made before any scale reads like one made before scaling.
      ...(Object.keys(scale).length > 0 ? { scale } : {}),
    };
  }

  /**
   * Sets replicas per process type (validated by the caller against the spec: see
   * src/release/formation.ts); process types not named keep theirs.
   */
  async scale(app: string, env: string, formation: Record<string, number>, by: string) {
    const at = new Date().toISOString();
    const multi = this.redis.multi();
    for (const [process, replicas] of Object.entries(formation)) {
      multi.hset(this.keys.configScale(app, env), process, JSON.stringify({ replicas, by, at }));
    }
    await multi.exec();
  }

  /**
   * Applies a change: vars by value, each secret as a new sealed version, unset removes either.
   * Validates everything first, so a bad key changes nothing.
   */
  async apply(app: string, env: string, change: ConfigChange, by: string): Promise<ChangedKeys> {
    const vars = Object.entries(change.vars ?? {});
    const secrets = Object.entries(change.secrets ?? {});
    const unset = [...(change.unset ?? [])];
    for (const [k, v] of [...vars, ...secrets]) checkPair(k, v);
    for (const k of unset) checkName(k);
    const all = [...vars.map(([k]) => k), ...secrets.map(([k]) => k), ...unset];
    const dup = all.find((k, i) => all.indexOf(k) !== i);
    if (dup) throw invalid(`${dup} is named twice in one change`);
    if (all.length === 0) throw invalid('nothing to change');
    if (secrets.length > 0 && !this.box) {
      throw new GantryError(
        'GANTRY_ERR_SECRET_MISSING',
        'secrets cannot be stored: the controller has no secrets key (set secrets.keyFile or secrets.keyEnv in its config)',
      );
    }
    const current = await this.view(app, env);
    const total = new Set([...Object.keys(current.vars), ...Object.keys(current.secrets), ...all]);
    if (total.size - unset.length > MAX_KEYS)
      throw invalid(`at most ${MAX_KEYS} config keys per environment`);
    const at = new Date().toISOString();
    const multi = this.redis.multi();
    for (const [k, value] of vars) {
      multi.hset(this.keys.configVars(app, env), k, JSON.stringify({ value, by, at }));
      // A key is a var or a secret, never both.
      multi.hdel(this.keys.configSecrets(app, env), k);
    }
    for (const [k, value] of secrets) {
      const version = await this.redis.hincrby(this.keys.secretSeq(app, env), k, 1);
      const sealed = this.box!.seal({ app, env, name: k, version }, value);
      multi.hset(this.keys.secretValues(app, env, k), String(version), sealed);
      multi.hset(this.keys.configSecrets(app, env), k, JSON.stringify({ version, by, at }));
      multi.hdel(this.keys.configVars(app, env), k);
    }
    for (const k of unset) {
      multi.hdel(this.keys.configVars(app, env), k);
      multi.hdel(this.keys.configSecrets(app, env), k);
    }
    await multi.exec();
    return { set: vars.map(([k]) => k), secrets: secrets.map(([k]) => k), unset };
  }

  /**
   * Makes `snapshot` the environment's config again (after a rollback to the release it came
   * from): vars by value, secrets by pointing back at the versions it names, which are kept. A
   * later config change then starts from what runs, not from what was rolled back.
   */
  async restore(app: string, env: string, snapshot: ConfigSnapshot, by: string): Promise<void> {
    const at = new Date().toISOString();
    const multi = this.redis
      .multi()
      .del(
        this.keys.configVars(app, env),
        this.keys.configSecrets(app, env),
        this.keys.configScale(app, env),
      );
    for (const [k, value] of Object.entries(snapshot.vars)) {
      multi.hset(this.keys.configVars(app, env), k, JSON.stringify({ value, by, at }));
    }
    for (const [k, version] of Object.entries(snapshot.secrets)) {
      multi.hset(this.keys.configSecrets(app, env), k, JSON.stringify({ version, by, at }));
    }
    // The formation comes back too: a release made before any scale restores the spec's replicas.
    for (const [process, replicas] of Object.entries(snapshot.scale ?? {})) {
      multi.hset(this.keys.configScale(app, env), process, JSON.stringify({ replicas, by, at }));
    }
    await multi.exec();
  }

  /** The values of the secret versions a release names; GANTRY_ERR_SECRET_MISSING if one is gone. */
  async open(
    app: string,
    env: string,
    versions: Record<string, number>,
  ): Promise<Record<string, string>> {
    const out: Record<string, string> = {};
    for (const [name, version] of Object.entries(versions)) {
      const sealed = await this.redis.hget(this.keys.secretValues(app, env, name), String(version));
      if (sealed === null) {
        throw new GantryError(
          'GANTRY_ERR_SECRET_MISSING',
          `secret ${name} version ${version} of ${app}/${env} is gone`,
        );
      }
      if (!this.box) {
        throw new GantryError(
          'GANTRY_ERR_SECRET_MISSING',
          `secret ${name} cannot be opened: the controller has no secrets key`,
        );
      }
      out[name] = this.box.open({ app, env, name, version }, sealed);
    }
    return out;
  }

  /**
   * Re-seals every stored secret version under the current key (after the key was rotated: the
   * old one stays in `previousKeyFiles` until this has run). Returns how many were re-sealed.
   */
  async rotate(envs: readonly { app: string; env: string }[]): Promise<number> {
    if (!this.box) throw new GantryError('GANTRY_ERR_SECRET_MISSING', 'no secrets key configured');
    let n = 0;
    for (const { app, env } of envs) {
      const names = Object.keys(await this.redis.hgetall(this.keys.secretSeq(app, env)));
      for (const name of names) {
        const key = this.keys.secretValues(app, env, name);
        for (const [version, sealed] of Object.entries(await this.redis.hgetall(key))) {
          if (this.box.isCurrent(sealed)) continue;
          const place = { app, env, name, version: Number(version) };
          await this.redis.hset(key, version, this.box.seal(place, this.box.open(place, sealed)));
          n++;
        }
      }
    }
    return n;
  }
}

function checkName(k: string): void {
  if (!NAME.test(k))
    throw invalid(
      `${JSON.stringify(k.slice(0, 64))} is not an environment variable name (letters, digits, _; not starting with a digit)`,
    );
  if (RESERVED.test(k)) throw invalid(`${k} is set by Gantry itself`);
}

function checkPair(k: string, v: string): void {
  checkName(k);
  if (typeof v !== 'string') throw invalid(`${k}: the value must be a string`);
  // The message names the key and the size, never the value.
  if (Buffer.byteLength(v) > MAX_VALUE_BYTES)
    throw invalid(`${k}: the value is over ${MAX_VALUE_BYTES} bytes`);
  if (v.includes('\0')) throw invalid(`${k}: the value contains a NUL byte`);
}

function invalid(message: string): GantryError {
  return new GantryError('GANTRY_ERR_CONFIG_VAR_INVALID', message);
}

function mapValues<A, B>(o: Record<string, A>, f: (a: A) => B): Record<string, B> {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, f(v)]));
}
