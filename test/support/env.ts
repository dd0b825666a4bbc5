/** What the global setup hands to tests: the private Redis and registry of this test run. */
import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';

declare module 'vitest' {
  export interface ProvidedContext {
    /** `redis://127.0.0.1:PORT`, AOF on, `maxmemory-policy noeviction`. */
    redisUrl: string;
    /** `127.0.0.1:PORT`, the registry to push to (no TLS, no auth). */
    registry: string;
    /** `.gantry/test/<run>/`: a scratch directory for this test run, removed at the end. */
    runDir: string;
  }
}

export interface TestEnv {
  readonly redisUrl: string;
  readonly registry: string;
  readonly runDir: string;
}

/** The services of this test run (see test/support/global-setup.ts). */
export function testEnv(): TestEnv {
  return { redisUrl: inject('redisUrl'), registry: inject('registry'), runDir: inject('runDir') };
}

/** A name no other test uses, for queue names and key prefixes on the shared Redis. */
export function uniqueName(prefix = 'test'): string {
  return `${prefix}-${randomBytes(6).toString('hex')}`;
}
