import { describe, expect, it } from 'vitest';
import {
  containerCreateOptions,
  containerEnv,
  containerName,
  MAX_RESTARTS,
} from '../../src/runtime/docker/container-spec.js';
import type { InstanceSpec } from '../../src/runtime/runtime.js';

const DIGEST = `sha256:${'a'.repeat(64)}`;

function spec(over: Partial<InstanceSpec> = {}): InstanceSpec {
  return {
    app: 'hello',
    env: 'production',
    revision: '0123456789abcdef0123456789abcdef01234567',
    rolloutId: 'r-42',
    slot: 'r-42-0',
    image: `127.0.0.1:5000/hello@${DIGEST}`,
    port: 8080,
    vars: { LOG_LEVEL: 'info' },
    secrets: { DATABASE_URL: 'postgres://user:hunter2@db/app' },
    host: 'local',
    ...over,
  };
}

describe('containerCreateOptions', () => {
  it('labels the container so it can be found again, with identifiers only', () => {
    expect(containerCreateOptions(spec()).Labels).toEqual({
      'dev.gantry.managed': 'true',
      'dev.gantry.app': 'hello',
      'dev.gantry.env': 'production',
      'dev.gantry.revision': '0123456789abcdef0123456789abcdef01234567',
      'dev.gantry.rollout': 'r-42',
      'dev.gantry.slot': 'r-42-0',
      'dev.gantry.port': '8080',
    });
  });

  it('never puts a secret value in labels, name or anything but Env', () => {
    const secret = 'postgres://user:hunter2@db/app';
    const opts = containerCreateOptions(spec());
    const { Env, ...rest } = opts;
    expect(JSON.stringify(rest)).not.toContain('hunter2');
    expect(JSON.stringify(opts.Labels)).not.toContain(secret);
    expect(Env).toContain(`DATABASE_URL=${secret}`);
  });

  it('runs the pinned image with the port published on 127.0.0.1 only, on a port the engine picks', () => {
    const opts = containerCreateOptions(spec());
    expect(opts.Image).toBe(`127.0.0.1:5000/hello@${DIGEST}`);
    expect(opts.ExposedPorts).toEqual({ '8080/tcp': {} });
    expect(opts.HostConfig?.PortBindings).toEqual({
      '8080/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }],
    });
  });

  it('publishes on a remote host’s address when given one', () => {
    expect(containerCreateOptions(spec(), '10.250.3.2').HostConfig?.PortBindings).toEqual({
      '8080/tcp': [{ HostIp: '10.250.3.2', HostPort: '' }],
    });
  });

  it('restarts on failure a bounded number of times, rotates logs, sets the stop grace', () => {
    const opts = containerCreateOptions(spec({ stopTimeoutSeconds: 25 }));
    expect(opts.HostConfig?.RestartPolicy).toEqual({
      Name: 'on-failure',
      MaximumRetryCount: MAX_RESTARTS,
    });
    expect(opts.HostConfig?.LogConfig).toEqual({
      Type: 'json-file',
      Config: { 'max-size': '10m', 'max-file': '3' },
    });
    expect(opts.StopTimeout).toBe(25);
    expect(containerCreateOptions(spec()).StopTimeout).toBe(10);
  });

  it.each([
    { name: 'no limits', cpu: undefined, memoryBytes: undefined, want: {} },
    { name: 'half a core', cpu: 0.5, memoryBytes: undefined, want: { NanoCpus: 500_000_000 } },
    {
      name: '256 MiB',
      cpu: undefined,
      memoryBytes: 268435456,
      want: { Memory: 268435456, MemorySwap: 268435456 },
    },
    {
      name: 'both',
      cpu: 1.25,
      memoryBytes: 1024,
      want: { NanoCpus: 1_250_000_000, Memory: 1024, MemorySwap: 1024 },
    },
  ])('resources: $name', ({ cpu, memoryBytes, want }) => {
    const host = containerCreateOptions(spec({ cpu, memoryBytes })).HostConfig ?? {};
    const limits = Object.fromEntries(
      Object.entries(host).filter(([k]) => ['NanoCpus', 'Memory', 'MemorySwap'].includes(k)),
    );
    expect(limits).toEqual(want);
  });

  it('is deterministic: the same spec builds the same options', () => {
    expect(containerCreateOptions(spec())).toEqual(containerCreateOptions(spec()));
  });
});

describe('containerEnv', () => {
  it('layers PORT < vars < secrets < GANTRY_*, sorted', () => {
    const env = containerEnv(
      spec({
        vars: { PORT: '9999', A: 'var', GANTRY_REVISION: 'spoofed' },
        secrets: { A: 'secret' },
      }),
    );
    expect(env).toEqual([
      'A=secret',
      'GANTRY_APP=hello',
      'GANTRY_ENV=production',
      'GANTRY_REVISION=0123456789abcdef0123456789abcdef01234567',
      'GANTRY_SLOT=r-42-0',
      'PORT=9999',
    ]);
  });
});

describe('containerName', () => {
  it.each([
    { name: 'plain', slot: 'r-42-0', want: /^gantry-hello--production--r-42-0$/ },
    { name: 'slash', slot: 'r/42', want: /^gantry-hello--production--r-42-[0-9a-f]{8}$/ },
    {
      name: 'space and colon',
      slot: 'a b:c',
      want: /^gantry-hello--production--a-b-c-[0-9a-f]{8}$/,
    },
  ])('$name', ({ slot, want }) => {
    expect(containerName({ app: 'hello', env: 'production', slot })).toMatch(want);
  });

  it('keeps slots that sanitize alike apart', () => {
    const a = containerName({ app: 'hello', env: 'production', slot: 'r/1' });
    const b = containerName({ app: 'hello', env: 'production', slot: 'r:1' });
    const c = containerName({ app: 'hello', env: 'production', slot: 'r-1' });
    expect(new Set([a, b, c]).size).toBe(3);
  });
});

describe('process types', () => {
  const worker = spec({
    process: 'worker',
    routed: false,
    command: ['sh', '-c', 'bin/worker'],
    slot: 'r-42-3',
  });

  it('an unrouted process publishes nothing and runs its own command, labelled with its process', () => {
    const o = containerCreateOptions(worker);
    expect(o.Cmd).toEqual(['sh', '-c', 'bin/worker']);
    expect(o.ExposedPorts).toBeUndefined();
    expect(o.HostConfig?.PortBindings).toBeUndefined();
    expect(o.Labels?.['dev.gantry.process']).toBe('worker');
    expect(o.Labels?.['dev.gantry.port']).toBeUndefined();
    expect(o.Env).toContain('GANTRY_PROCESS=worker');
  });

  it('the routed process publishes its port on loopback and keeps the image CMD', () => {
    const o = containerCreateOptions(spec({ process: 'web' }));
    expect(o.Cmd).toBeUndefined();
    expect(o.HostConfig?.PortBindings).toEqual({
      '8080/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }],
    });
    expect(o.Labels?.['dev.gantry.process']).toBe('web');
  });

  it.each([
    { process: undefined, want: 'gantry-hello--production--r-42-3' },
    { process: 'web', want: 'gantry-hello--production--r-42-3' },
    { process: 'worker', want: 'gantry-hello--production--worker--r-42-3' },
  ])('names a $process instance $want', ({ process, want }) => {
    expect(containerName({ app: 'hello', env: 'production', slot: 'r-42-3', process })).toBe(want);
  });
});
