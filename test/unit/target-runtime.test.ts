import { describe, expect, it } from 'vitest';
import { TargetRuntime } from '../../src/runtime/targets.js';
import type { Instance, OneOffSpec, Runtime } from '../../src/runtime/runtime.js';

/** A runtime that only says which hosts it has and records what it was asked (the routing is under test). */
function recorder(name: string, hosts: string[], instances: Instance[] = []) {
  const calls: string[] = [];
  const runtime = {
    hosts: () => hosts,
    list: async () => instances,
    remove: async (i: Instance) => void calls.push(`remove ${i.id}`),
    runOnce: async (s: OneOffSpec) => {
      calls.push(`runOnce on ${s.host}`);
      return { exitCode: 0, timedOut: false, attached: false };
    },
  } as unknown as Runtime;
  return { name, runtime, calls };
}

const instance = (id: string, host: string, env = 'staging'): Instance => ({
  id,
  name: id,
  host,
  app: 'shop',
  env,
  revision: 'r',
  rolloutId: 'x',
  slot: 's',
  image: 'i',
  state: 'running',
  restartCount: 0,
});

describe('one runtime in front of several targets', () => {
  const docker = recorder('docker', ['local'], [instance('c1', 'local')]);
  const kube = recorder('kube', ['apps'], [instance('p1', 'apps', 'production')]);
  const asked: string[] = [];
  const composite = new TargetRuntime([docker.runtime, kube.runtime], async (app, env) => {
    asked.push(`${app}/${env}`);
    return env === 'production' ? kube.runtime : docker.runtime;
  });

  it('sends an instance to the one target with its host, without asking the store', async () => {
    await composite.remove(instance('p1', 'apps', 'production'));
    expect(kube.calls).toEqual(['remove p1']);
    expect(asked).toEqual([]);
  });

  it('asks which target the environment is on when hosts are shared or unknown', async () => {
    await composite.remove(instance('c9', 'elsewhere', 'production'));
    expect(asked).toEqual(['shop/production']);
    expect(kube.calls).toContain('remove c9');
  });

  it("lists an app's instances on every target, each once", async () => {
    const again = new TargetRuntime([docker.runtime, docker.runtime, kube.runtime], async () => {
      throw new Error('not asked');
    });
    expect((await again.list({ app: 'shop' })).map((i) => i.id)).toEqual(['c1', 'p1']);
  });

  it("places a one-off on its environment's target, on one of that target's hosts", async () => {
    await composite.runOnce(
      {
        app: 'shop',
        env: 'production',
        revision: 'r',
        purpose: 'run',
        key: 'k',
        image: 'i',
        command: ['true'],
        vars: {},
        secrets: {},
        host: 'local',
      },
      { timeoutMs: 1000 },
    );
    expect(kube.calls).toContain('runOnce on apps');
  });
});
