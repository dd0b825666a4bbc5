import { describe, expect, it } from 'vitest';
import { parseAppSpec } from '../../src/config/app-spec.js';
import { instanceSpec, requireSecrets } from '../../src/deploy/instance-spec.js';
import { observe, ProbeLog, upstreamOf } from '../../src/deploy/observe.js';
import { isGantryError } from '../../src/errors.js';
import type { Instance } from '../../src/runtime/runtime.js';

const spec = parseAppSpec(
  [
    'app: shop',
    'run:',
    '  port: 3000',
    '  env: { LOG_LEVEL: debug }',
    '  secrets: [DATABASE_URL]',
    '  resources: { cpu: 0.5, memory: 256Mi }',
  ].join('\n'),
);

describe('instance specs', () => {
  it('carries the spec, the rollout slot, the revision and the release, with secrets kept apart', () => {
    const s = instanceSpec({
      spec,
      env: 'production',
      rolloutId: 'r-1',
      slot: 'r-1-0',
      revision: 'abc',
      image: 'reg/shop@sha256:1',
      host: 'local',
      release: 7,
      config: {
        vars: { LOG_LEVEL: 'info', FEATURE: 'on' },
        secrets: { DATABASE_URL: 'postgres://secret' },
      },
    });
    expect(s).toMatchObject({
      app: 'shop',
      env: 'production',
      slot: 'r-1-0',
      port: 3000,
      cpu: 0.5,
      memoryBytes: 256 * 1024 * 1024,
      image: 'reg/shop@sha256:1',
      host: 'local',
    });
    // The release's vars win over the spec's; Gantry's own win over both.
    expect(s.vars).toEqual({
      LOG_LEVEL: 'info',
      FEATURE: 'on',
      GANTRY_APP: 'shop',
      GANTRY_ENV: 'production',
      GANTRY_REVISION: 'abc',
      GANTRY_RELEASE: 'v7',
    });
    expect(s.release).toBe(7);
    expect(JSON.stringify(s.vars)).not.toContain('secret');
    expect(s.secrets).toEqual({ DATABASE_URL: 'postgres://secret' });
  });

  it('names the declared secrets a release has no value for, and how to set them, never a value', () => {
    expect(() => requireSecrets(spec, 'production', { DATABASE_URL: 'x' })).not.toThrow();
    try {
      requireSecrets(spec, 'production', { OTHER: 'hunter2' });
      expect.unreachable();
    } catch (e) {
      expect(isGantryError(e) && e.code).toBe('GANTRY_ERR_SECRET_MISSING');
      expect((e as Error).message).toContain('DATABASE_URL');
      expect((e as Error).message).toContain(
        'gantry config:set shop DATABASE_URL=… --secret --env production',
      );
      expect((e as Error).message).not.toContain('hunter2');
    }
  });
});

describe('observation', () => {
  const instance = (over: Partial<Instance>): Instance => ({
    id: 'c1',
    name: 'n',
    host: 'local',
    app: 'shop',
    env: 'production',
    revision: 'abc',
    rolloutId: 'r-1',
    slot: 'r-1-0',
    image: 'img',
    state: 'running',
    restartCount: 0,
    hostPort: 40000,
    ...over,
  });

  it('marks routed instances by their upstream and hands over probes', () => {
    const probes = new ProbeLog();
    probes.add('c1', { at: 1, ok: true, detail: 'GET / → 200' });
    const seen = observe(
      [
        instance({}),
        instance({ id: 'c2', slot: 'r-1-1', hostPort: 40001 }),
        instance({ id: 'c3', state: 'removing' }),
      ],
      new Set(['127.0.0.1:40000']),
      probes,
      null,
    );
    expect(seen.instances.map((i) => [i.id, i.routed, i.probes.length])).toEqual([
      ['c1', true, 1],
      ['c2', false, 0],
    ]);
    expect(upstreamOf(instance({ hostPort: undefined }))).toBeUndefined();
  });

  it('keeps a bounded ring of probes per instance', () => {
    const probes = new ProbeLog();
    for (let at = 0; at < 50; at++) probes.add('c1', { at, ok: true, detail: '' });
    expect(probes.of('c1')).toHaveLength(20);
    expect(probes.of('c1')[0]?.at).toBe(30);
    probes.forget('c1');
    expect(probes.of('c1')).toHaveLength(0);
  });
});
