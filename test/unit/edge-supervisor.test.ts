import { describe, expect, it } from 'vitest';
import { restartDelay } from '../../src/edge/supervisor/caddy-keeper.js';
import { caddyRunning } from '../../src/edge/supervisor/caddy-process.js';
import { parseEdgeState } from '../../src/edge/supervisor/edge-state.js';
import { supervisorRunning } from '../../src/edge/supervisor/supervisor.js';

describe('restartDelay', () => {
  it.each([
    { failures: 0, ms: 0 },
    { failures: 1, ms: 100 },
    { failures: 2, ms: 200 },
    { failures: 4, ms: 800 },
    { failures: 7, ms: 5_000 },
    { failures: 50, ms: 5_000 },
  ])('$failures failures in a row wait $ms ms', ({ failures, ms }) => {
    expect(restartDelay(failures)).toBe(ms);
  });
});

describe('parseEdgeState', () => {
  it.each([
    { name: 'nothing', raw: null, want: {} },
    {
      name: 'a full state',
      raw: {
        supervisorPid: 40,
        front: { adminUrl: 'unix:/e/front/admin.sock', pid: 41 },
        back: { adminUrl: 'unix:/e/back/admin.sock' },
      },
      want: {
        supervisorPid: 40,
        front: { adminUrl: 'unix:/e/front/admin.sock', pid: 41 },
        back: { adminUrl: 'unix:/e/back/admin.sock', pid: undefined },
      },
    },
    {
      name: 'an older edge’s TCP admin ports',
      raw: { supervisorPid: 40, front: { adminPort: 2019, pid: 41 }, back: { adminPort: 2020 } },
      want: {
        supervisorPid: 40,
        front: { adminUrl: 'http://127.0.0.1:2019', pid: 41 },
        back: { adminUrl: 'http://127.0.0.1:2020', pid: undefined },
      },
    },
    {
      name: 'bad ports, URLs and pids dropped',
      raw: { supervisorPid: 1, front: { adminPort: 70_000, pid: 41 }, back: { adminPort: '2020' } },
      want: { supervisorPid: undefined, front: undefined, back: undefined },
    },
    {
      name: 'an admin URL off this host or a relative socket',
      raw: { front: { adminUrl: 'http://10.0.0.1:2019' }, back: { adminUrl: 'unix:admin.sock' } },
      want: { supervisorPid: undefined, front: undefined, back: undefined },
    },
  ])('$name', ({ raw, want }) => {
    expect(parseEdgeState(raw)).toEqual(want);
  });
});

describe('process matchers', () => {
  const config = '/var/lib/gantry/edge/front/caddy.json';
  it.each([
    { argv: ['caddy', 'run', '--resume', '--config', config], resume: true, want: true },
    { argv: ['/usr/bin/caddy', 'run', '--resume', '--config', config], resume: true, want: true },
    { argv: ['caddy', 'run', '--config', config], resume: true, want: false },
    { argv: ['caddy', 'run', '--config', config], resume: undefined, want: true },
    {
      argv: ['caddy', 'run', '--resume', '--config', '/other/caddy.json'],
      resume: true,
      want: false,
    },
    { argv: ['node', 'caddy', 'run', '--config', config], resume: undefined, want: false },
  ])('caddyRunning($argv, resume $resume) is $want', ({ argv, resume, want }) => {
    expect(caddyRunning(config, resume === undefined ? {} : { resume })(argv)).toBe(want);
  });

  it('knows the supervisor of one directory, not of another', () => {
    const dir = '/var/lib/gantry/edge';
    const match = supervisorRunning(dir);
    expect(match(['node', '/app/bin/gantry.js', 'edge', '--dir', dir])).toBe(true);
    expect(match(['node', '/app/bin/gantry.js', 'edge', `--dir=${dir}`])).toBe(true);
    expect(match(['node', '/app/bin/gantry.js', 'edge', '--dir', `${dir}2`])).toBe(false);
    expect(match(['node', '/app/bin/gantry.js', 'serve', '--config', dir])).toBe(false);
  });
});
