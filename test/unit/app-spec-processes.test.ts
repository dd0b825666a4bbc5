/** `processes:` in gantry.yaml: the forms it takes, per-environment replicas, and its errors. */
import { describe, expect, it } from 'vitest';
import { parseAppSpec } from '../../src/config/app-spec.js';
import { processesOf } from '../../src/config/processes.js';
import { specForEnv } from '../../src/config/spec-for-env.js';

const HEALTH =
  'health: { http: { path: /healthz }, interval: 2s, startPeriod: 5s, healthyThreshold: 2 }';

function summary(text: string, env = 'production') {
  return processesOf(specForEnv(parseAppSpec(text), env)).map((p) => ({
    name: p.name,
    replicas: p.replicas,
    port: p.port,
    command: p.command,
    check: p.health.check.kind,
  }));
}

describe('process types in gantry.yaml', () => {
  it.each([
    {
      name: 'the single-process form is one web',
      text: `app: a\nrun: { port: 3000, replicas: 3 }\n${HEALTH}\n`,
      want: [{ name: 'web', replicas: 3, port: 3000, command: undefined, check: 'http' }],
    },
    {
      name: 'web and worker: web routed on run.port, worker healthy while running',
      text: `app: a\nrun: { replicas: 2 }\n${HEALTH}\nprocesses:\n  web: {}\n  worker: { command: [bin/work] }\n`,
      want: [
        { name: 'web', replicas: 2, port: 8080, command: undefined, check: 'http' },
        { name: 'worker', replicas: 1, port: undefined, command: ['bin/work'], check: 'running' },
      ],
    },
    {
      name: 'a port makes another process the routed one',
      text: `app: a\nprocesses:\n  api: { port: 9000, replicas: 2 }\n  jobs: { replicas: 3, health: { exec: [check] } }\n`,
      want: [
        { name: 'api', replicas: 2, port: 9000, command: undefined, check: 'http' },
        { name: 'jobs', replicas: 3, port: undefined, command: undefined, check: 'exec' },
      ],
    },
    {
      name: 'per-environment replicas per process, and `replicas` still means web',
      text: `app: a\nprocesses:\n  web: { replicas: 2 }\n  worker: { replicas: 1 }\nenvironments:\n  production: { branch: main, replicas: 5, processes: { worker: { replicas: 4 } } }\n`,
      want: [
        { name: 'web', replicas: 5, port: 8080, command: undefined, check: 'http' },
        { name: 'worker', replicas: 4, port: undefined, command: undefined, check: 'running' },
      ],
    },
  ])('$name', ({ text, want }) => {
    expect(summary(text)).toEqual(want);
  });

  it('a process override wins over the environment replicas for web', () => {
    const text = `app: a\nenvironments:\n  production: { branch: main, replicas: 5, processes: { web: { replicas: 7 } } }\n`;
    expect(summary(text)[0]?.replicas).toBe(7);
  });

  it('a process health inherits the timings it does not set', () => {
    const text = `app: a\n${HEALTH}\nprocesses:\n  worker: { health: { exec: [ok], interval: 5s } }\n`;
    const [worker] = processesOf(parseAppSpec(text));
    expect(worker?.health).toMatchObject({ intervalMs: 5000, startPeriodMs: 5000 });
  });

  it.each([
    {
      name: 'two routed processes',
      text: 'app: a\nprocesses:\n  web: {}\n  api: { port: 3000 }\n',
      at: 'gantry.yaml:4:16',
      says: 'only one process may have a port',
    },
    {
      name: 'a port check on an unrouted process',
      text: 'app: a\nprocesses:\n  worker: { health: { tcp: {} } }\n',
      at: 'gantry.yaml:3:28',
      says: 'an unrouted process publishes none to probe: check it from inside the container with exec',
    },
    {
      name: 'an http check on an unrouted process',
      text: 'app: a\nprocesses:\n  worker: { health: { http: { path: /ok } } }\n',
      at: 'gantry.yaml:3:29',
      says: 'needs a port, and an unrouted process publishes none to probe',
    },
    {
      name: 'an override of a process not declared',
      text: 'app: a\nenvironments:\n  production: { branch: main, processes: { worker: { replicas: 2 } } }\n',
      at: 'gantry.yaml:3:52',
      says: 'names no process type (known: web)',
    },
    {
      name: 'a bad process name',
      text: 'app: a\nprocesses:\n  Worker-1: {}\n',
      at: 'gantry.yaml:3:3',
      says: 'lowercase letters and digits',
    },
    {
      name: 'a process memory below what Docker accepts',
      text: 'app: a\nprocesses:\n  worker: { resources: { memory: 1Mi } }\n',
      at: 'gantry.yaml:3:34',
      says: 'at least 6Mi',
    },
  ])('refuses $name, with file:line:col', ({ text, at, says }) => {
    expect(() => parseAppSpec(text)).toThrow(at);
    expect(() => parseAppSpec(text)).toThrow(says);
  });
});
