import { describe, expect, it } from 'vitest';
import { pickSubnets, secondDockerArgs } from '../support/second-docker.js';

describe('pickSubnets', () => {
  it('avoids every /24 a route overlaps', () => {
    const routes = ['default', '172.17.0.0/16', '10.213.1.0/24', '10.213.2.0/23', '192.0.2.0/24'];
    const { bridge, pool } = pickSubnets(routes, () => 0);
    expect(bridge).toBe('10.213.4.1/24');
    expect(pool).toBe('10.213.5.0/24');
  });

  it('fails plainly when a route covers the whole range', () => {
    expect(() => pickSubnets(['10.0.0.0/8'])).toThrow(/no free \/24/);
  });

  it('never returns the same /24 twice', () => {
    for (let i = 0; i < 20; i++) {
      const { bridge, pool } = pickSubnets([], () => i / 20);
      expect(bridge.replace(/\.1\/24$/, '')).not.toBe(pool.replace(/\.0\/24$/, ''));
    }
  });
});

describe('secondDockerArgs', () => {
  it('isolates socket, roots, config and bridge, leaves iptables to the main engine, and sets no address pool (a restart would delete docker0)', () => {
    const args = secondDockerArgs({
      dir: '/tmp/gd2-x',
      socketPath: '/tmp/gd2-x/docker.sock',
      dataRoot: '/tmp/gd2-x/data',
      execRoot: '/tmp/gd2-x/exec',
      pidFile: '/tmp/gd2-x/docker.pid',
      configFile: '/tmp/gd2-x/daemon.json',
      logFile: '/tmp/gd2-x/dockerd.log',
      bridge: 'gd2-abc123',
      bridgeAddress: '10.213.4.1/24',
    });
    expect(args).toEqual([
      '--host=unix:///tmp/gd2-x/docker.sock',
      '--data-root=/tmp/gd2-x/data',
      '--exec-root=/tmp/gd2-x/exec',
      '--pidfile=/tmp/gd2-x/docker.pid',
      '--config-file=/tmp/gd2-x/daemon.json',
      '--bridge=gd2-abc123',
      '--iptables=false',
      '--ip6tables=false',
      '--live-restore=false',
    ]);
  });
});
