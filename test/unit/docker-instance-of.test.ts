import { describe, expect, it } from 'vitest';
import {
  hostPortOf,
  instanceOf,
  stateOf,
  type InspectLike,
} from '../../src/runtime/docker/instance-of.js';

const LABELS = {
  'dev.gantry.managed': 'true',
  'dev.gantry.app': 'hello',
  'dev.gantry.env': 'production',
  'dev.gantry.revision': 'abc123',
  'dev.gantry.rollout': 'r-1',
  'dev.gantry.slot': 'r-1-0',
  'dev.gantry.port': '8080',
};

function inspect(
  over: {
    status?: string;
    exitCode?: number;
    startedAt?: string;
    labels?: Record<string, string>;
    ports?: InspectLike['NetworkSettings']['Ports'];
    restarts?: number;
  } = {},
): InspectLike {
  return {
    Id: 'c0ffee',
    Name: '/gantry-hello-production-r-1-0',
    RestartCount: over.restarts ?? 0,
    State: {
      Status: over.status ?? 'running',
      ExitCode: over.exitCode ?? 0,
      StartedAt: over.startedAt ?? '2026-01-02T03:04:05.678Z',
    },
    Config: { Labels: over.labels ?? LABELS, Image: '127.0.0.1:5000/hello@sha256:x' },
    NetworkSettings: {
      Ports:
        over.ports === undefined
          ? { '8080/tcp': [{ HostIp: '127.0.0.1', HostPort: '49153' }] }
          : over.ports,
    },
  };
}

describe('instanceOf', () => {
  it('maps a running managed container', () => {
    expect(instanceOf(inspect(), 'local')).toEqual({
      id: 'c0ffee',
      name: 'gantry-hello-production-r-1-0',
      host: 'local',
      app: 'hello',
      env: 'production',
      revision: 'abc123',
      rolloutId: 'r-1',
      slot: 'r-1-0',
      // No release label: a container from before releases.
      release: null,
      image: '127.0.0.1:5000/hello@sha256:x',
      state: 'running',
      exitCode: undefined,
      restartCount: 0,
      startedAt: Date.parse('2026-01-02T03:04:05.678Z'),
      hostPort: 49153,
      hostAddress: '127.0.0.1',
    });
  });

  it.each([
    { name: 'on a remote host, its address', address: '10.250.0.2', want: 32768 },
    { name: 'the loopback binding is not a remote host’s', address: '10.250.0.9', want: undefined },
  ])('reads the port published on its host’s address: $name', ({ address, want }) => {
    const ports = { '8080/tcp': [{ HostIp: '10.250.0.2', HostPort: '32768' }] };
    const i = instanceOf(inspect({ ports }), 'two', address);
    expect(i?.hostPort).toBe(want);
    expect(i?.hostAddress).toBe(want === undefined ? undefined : address);
  });

  it('reads the release label as a number', () => {
    const info = inspect();
    info.Config.Labels = { ...info.Config.Labels, 'dev.gantry.release': '12' };
    expect(instanceOf(info, 'local')?.release).toBe(12);
  });

  it.each<{ name: string; labels: Record<string, string> }>([
    { name: 'no labels', labels: {} },
    { name: 'managed=false', labels: { ...LABELS, 'dev.gantry.managed': 'false' } },
    {
      name: 'no slot',
      labels: { 'dev.gantry.managed': 'true', 'dev.gantry.app': 'hello', 'dev.gantry.env': 'p' },
    },
  ])('ignores containers Gantry did not create: $name', ({ labels }) => {
    expect(instanceOf(inspect({ labels }), 'local')).toBeUndefined();
  });

  it.each([
    { status: 'exited', exitCode: 3, want: 3 },
    { status: 'restarting', exitCode: 3, want: 3 },
    { status: 'dead', exitCode: 137, want: 137 },
    { status: 'running', exitCode: 0, want: undefined },
    { status: 'created', exitCode: 0, want: undefined },
  ])('exitCode only once exited: $status', ({ status, exitCode, want }) => {
    expect(instanceOf(inspect({ status, exitCode }), 'h')?.exitCode).toBe(want);
  });

  it('reads "never started" and "no ports" as undefined', () => {
    const i = instanceOf(
      inspect({ status: 'created', startedAt: '0001-01-01T00:00:00Z', ports: {} }),
      'h',
    );
    expect(i?.startedAt).toBeUndefined();
    expect(i?.hostPort).toBeUndefined();
  });

  it('keeps the restart count', () => {
    expect(instanceOf(inspect({ status: 'restarting', restarts: 2 }), 'h')?.restartCount).toBe(2);
  });
});

describe('stateOf', () => {
  it('passes known states and reads unknown ones as dead', () => {
    expect(stateOf('paused')).toBe('paused');
    expect(stateOf('removing')).toBe('removing');
    expect(stateOf('hibernating')).toBe('dead');
  });
});

describe('hostPortOf', () => {
  it('only counts the loopback binding', () => {
    expect(
      hostPortOf({ '8080/tcp': [{ HostIp: '0.0.0.0', HostPort: '1234' }] }, 8080),
    ).toBeUndefined();
    expect(
      hostPortOf(
        {
          '8080/tcp': [
            { HostIp: '0.0.0.0', HostPort: '1' },
            { HostIp: '127.0.0.1', HostPort: '2' },
          ],
        },
        8080,
      ),
    ).toBe(2);
    expect(hostPortOf(null, 8080)).toBeUndefined();
    expect(
      hostPortOf({ '8080/tcp': [{ HostIp: '127.0.0.1', HostPort: '5' }] }, 9090),
    ).toBeUndefined();
  });

  it('counts the binding on the given address', () => {
    const ports = {
      '8080/tcp': [
        { HostIp: '127.0.0.1', HostPort: '1' },
        { HostIp: 'fd00::2', HostPort: '2' },
      ],
    };
    expect(hostPortOf(ports, 8080, 'fd00::2')).toBe(2);
    expect(hostPortOf(ports, 8080, '10.0.0.2')).toBeUndefined();
  });
});
