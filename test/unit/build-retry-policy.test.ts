/** Retry policy of transient failures, and the caps, as the controller config gives them (pure). */
import { describe, expect, it } from 'vitest';
import { buildState } from '../../src/cli/commands/builds.js';
import { parseControllerConfig } from '../../src/config/controller-config.js';
import {
  maxContextBytesOf,
  retryPolicyOf,
  sourceLimitsOf,
} from '../../src/config/limits-config.js';
import { GantryError } from '../../src/errors.js';
import { defaultJobOptions } from '../../src/queue/queues.js';
import {
  BACKOFF_TYPE,
  DEFAULT_RETRY,
  retryDelay,
  retrySpan,
  shouldRetry,
} from '../../src/queue/retry.js';
import type { BuildRecord } from '../../src/store/records.js';

const config = (lines: string[]) =>
  parseControllerConfig([...lines, 'repos: []'].join('\n'), { env: {} });

describe('retry delays', () => {
  const cases = [
    { name: 'first retry waits the base delay', failed: 1, want: 5_000 },
    { name: 'then doubles', failed: 2, want: 10_000 },
    { name: 'and doubles', failed: 4, want: 40_000 },
    { name: 'up to the cap', failed: 6, want: 120_000 },
    { name: 'and stays there', failed: 30, want: 120_000 },
  ];
  for (const c of cases) {
    it(c.name, () => expect(retryDelay(DEFAULT_RETRY, c.failed)).toBe(c.want));
  }
  it('spans minutes by default, not seconds', () => {
    // 5 + 10 + 20 + 40 + 80 + 120 + 120 s.
    expect(retrySpan(DEFAULT_RETRY)).toBe(395_000);
  });
});

describe('what is retried', () => {
  const cases = [
    {
      name: 'registry away',
      e: new GantryError('GANTRY_ERR_REGISTRY_UNAVAILABLE', 'x'),
      want: true,
    },
    { name: 'engine away', e: new GantryError('GANTRY_ERR_DOCKER_UNAVAILABLE', 'x'), want: true },
    { name: 'git server away or 5xx', e: new GantryError('GANTRY_ERR_GIT_FETCH', 'x'), want: true },
    { name: 'an unknown error', e: new Error('boom'), want: true },
    { name: 'a bad spec', e: new GantryError('GANTRY_ERR_SPEC_INVALID', 'x'), want: false },
    {
      name: 'a failing build step',
      e: new GantryError('GANTRY_ERR_BUILD_FAILED', 'x'),
      want: false,
    },
    { name: 'a push over a cap', e: new GantryError('GANTRY_ERR_SOURCE_LIMIT', 'x'), want: false },
  ];
  for (const c of cases) {
    it(`${c.name}: ${c.want ? 'retried' : 'not retried'}`, () => {
      expect(shouldRetry(c.e, 1, 8)).toBe(c.want);
      expect(shouldRetry(c.e, 8, 8)).toBe(false);
    });
  }
});

describe('controller config', () => {
  it('defaults: 8 attempts, 5 s to 2 min; caps of 1 GiB, 10 min, 100 MiB, 2 GiB', () => {
    const cfg = config([]);
    expect(retryPolicyOf(cfg.build)).toEqual(DEFAULT_RETRY);
    expect(sourceLimitsOf(cfg.source)).toEqual({
      maxPackBytes: 1024 ** 3,
      fetchTimeoutMs: 600_000,
      idleTimeoutMs: 60_000,
      maxBlobBytes: 100 * 1024 ** 2,
    });
    expect(maxContextBytesOf(cfg.build)).toBe(2 * 1024 ** 3);
  });

  it('reads build.retry (over build.attempts) and source caps', () => {
    const cfg = config([
      'build: { attempts: 3, retry: { attempts: 12, baseDelay: 1s, maxDelay: 5m }, maxContextSize: 512Mi }',
      'source: { maxPackSize: 200Mi, fetchTimeout: 2m, maxBlobSize: 10Mi }',
    ]);
    expect(retryPolicyOf(cfg.build)).toEqual({
      attempts: 12,
      baseDelayMs: 1_000,
      maxDelayMs: 300_000,
    });
    expect(sourceLimitsOf(cfg.source)).toMatchObject({
      maxPackBytes: 200 * 1024 ** 2,
      fetchTimeoutMs: 120_000,
      maxBlobBytes: 10 * 1024 ** 2,
    });
    expect(maxContextBytesOf(cfg.build)).toBe(512 * 1024 ** 2);
    expect(retryPolicyOf(config(['build: { attempts: 3 }']).build).attempts).toBe(3);
  });

  it('refuses sizes in Docker’s ambiguous units', () => {
    expect(() => config(['source: { maxBlobSize: 100m }'])).toThrow(
      /source\/maxBlobSize|maxBlobSize/,
    );
  });

  it('jobs carry the capped backoff the workers answer for', () => {
    expect(defaultJobOptions(retryPolicyOf(config([]).build))).toMatchObject({
      attempts: 8,
      backoff: { type: BACKOFF_TYPE, delay: 5_000 },
    });
  });
});

describe('the CLI says where a build stands', () => {
  const base: BuildRecord = {
    id: 'b1',
    app: 'a',
    sha: 'a'.repeat(40),
    repo: 'r',
    branch: 'main',
    trigger: { kind: 'poll' },
    status: 'queued',
    createdAt: '2026-01-01T00:00:00.000Z',
    attempts: 2,
  };
  const lastError = {
    code: 'GANTRY_ERR_REGISTRY_UNAVAILABLE',
    message: 'push failed',
    at: '2026-01-01T00:00:10.000Z',
  };
  const cases: { name: string; build: BuildRecord; want: string | null }[] = [
    {
      name: 'waiting for a retry',
      build: {
        ...base,
        retry: { attempt: 2, of: 8, nextAt: '2026-01-01T00:00:20.000Z', lastError },
      },
      want: 'waiting: attempt 2 of 8 failed (push failed); next try at 2026-01-01T00:00:20.000Z',
    },
    {
      name: 'failed after retries',
      build: {
        ...base,
        status: 'failed',
        retry: { attempt: 8, of: 8, lastError },
        failure: {
          code: lastError.code,
          message: 'push failed (gave up after 8 of 8 attempts)',
          logTail: [],
        },
      },
      want: '✘ build b1 failed after 8 of 8 attempts: GANTRY_ERR_REGISTRY_UNAVAILABLE: push failed (gave up after 8 of 8 attempts)',
    },
    { name: 'running', build: { ...base, status: 'running' }, want: null },
  ];
  for (const c of cases) it(c.name, () => expect(buildState(c.build)).toBe(c.want));
});
