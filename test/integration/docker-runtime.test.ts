/**
 * The Docker runtime against the real engine: the runtime contract, what only Docker has
 * (create options as the engine stored them, the bounded crash loop, image pruning, refusing to
 * touch foreign containers), and two hosts with a second dockerd started for the purpose.
 */
import { join } from 'node:path';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  startSecondDocker,
  secondDockerUnavailable,
  type SecondDocker,
} from '../support/second-docker.js';
import { errorMessage, isGantryError } from '../../src/errors.js';
import { MAX_RESTARTS } from '../../src/runtime/docker/container-spec.js';
import { DockerRuntime } from '../../src/runtime/docker/docker-runtime.js';
import type { Instance, InstanceSpec } from '../../src/runtime/runtime.js';
import {
  CONTRACT_APP_PORT,
  buildContractImage,
  runtimeContract,
  type ForeignInstance,
} from '../contract/runtime-contract.js';
import { contractImageOf } from '../support/controller-fixture.js';
import { testEnv, uniqueName } from '../support/env.js';

const LOCAL = { name: 'local', endpoint: 'unix:///var/run/docker.sock' };
const engine = new Docker({ socketPath: '/var/run/docker.sock' });

// noprune: the parent layers are build cache other tests may be building on at this moment.
async function removeImageQuietly(docker: Docker, ref: string): Promise<void> {
  await docker
    .getImage(ref)
    .remove({ force: true, noprune: true })
    .catch(() => undefined);
}

async function hasImage(docker: Docker, ref: string): Promise<boolean> {
  return docker
    .getImage(ref)
    .inspect()
    .then(
      () => true,
      () => false,
    );
}

function foreignOn(docker: Docker, image: string, created: Docker.Container[]) {
  return async (name: string): Promise<ForeignInstance> => {
    const container = await docker.createContainer({
      name,
      Image: image,
      Env: [`PORT=${CONTRACT_APP_PORT}`],
    });
    created.push(container);
    await container.start();
    return {
      id: container.id,
      running: async () => {
        const info = await container.inspect().catch(() => undefined);
        return info?.State.Running;
      },
      remove: () => container.remove({ force: true }).then(() => undefined),
    };
  };
}

runtimeContract('docker', async () => {
  const { image } = await contractImageOf('rtc');
  const runtime = new DockerRuntime({ hosts: [LOCAL] });
  const foreigners: Docker.Container[] = [];
  return {
    runtime,
    host: 'local',
    image,
    foreign: async (name) => {
      await runtime.ensureImage('local', image);
      return foreignOn(engine, image, foreigners)(name);
    },
    dispose: async () => {
      for (const c of foreigners) await c.remove({ force: true }).catch(() => undefined);
      await removeImageQuietly(engine, image);
    },
  };
});

describe('DockerRuntime on the real engine', () => {
  const env = testEnv();
  const runtime = new DockerRuntime({ hosts: [LOCAL] });
  const app = uniqueName('rtd');
  const images: string[] = [];
  let image = '';
  const foreigners: Docker.Container[] = [];

  function spec(slot: string, over: Partial<InstanceSpec> = {}): InstanceSpec {
    return {
      app,
      env: 'test',
      revision: 'd0cker0000000000000000000000000000000001',
      rolloutId: 'r1',
      slot,
      image,
      port: CONTRACT_APP_PORT,
      vars: {},
      secrets: {},
      host: 'local',
      ...over,
    };
  }

  beforeAll(async () => {
    image = await buildContractImage({
      registry: env.registry,
      app,
      version: '1',
      dir: join(env.runDir, `${app}-1`),
    });
    images.push(image);
  });

  afterAll(async () => {
    for (const i of await runtime.list({ app }).catch(() => []))
      await runtime.remove(i).catch(() => undefined);
    for (const c of foreigners) await c.remove({ force: true }).catch(() => undefined);
    for (const ref of images) await removeImageQuietly(engine, ref);
  });

  it('sends the create options to the engine as built: limits, loopback port, restart policy, log rotation', async () => {
    const secret = 'docker-secret-abc123';
    const instance = await runtime.start(
      spec('limits', {
        cpu: 0.5,
        memoryBytes: 64 * 1024 * 1024,
        stopTimeoutSeconds: 7,
        secrets: { TOKEN: secret },
      }),
    );
    const info = await engine.getContainer(instance.id).inspect();
    expect(info.HostConfig).toMatchObject({
      NanoCpus: 500_000_000,
      Memory: 64 * 1024 * 1024,
      RestartPolicy: { Name: 'on-failure', MaximumRetryCount: MAX_RESTARTS },
      LogConfig: { Type: 'json-file', Config: { 'max-size': '10m', 'max-file': '3' } },
      PortBindings: { [`${CONTRACT_APP_PORT}/tcp`]: [{ HostIp: '127.0.0.1', HostPort: '' }] },
    });
    expect((info.Config as { StopTimeout?: number }).StopTimeout).toBe(7);
    expect(info.NetworkSettings.Ports[`${CONTRACT_APP_PORT}/tcp`]).toEqual([
      { HostIp: '127.0.0.1', HostPort: String(instance.hostPort) },
    ]);
    expect(JSON.stringify(info.Config.Labels)).not.toContain(secret);
    expect(info.Name).toBe(`/gantry-${app}--test--limits`);
  });

  it('bounds a crash loop: restarted MAX_RESTARTS times, then exited with the exit code', async () => {
    const instance = await runtime.start(spec('crash', { vars: { MODE: 'crash' } }));
    const deadline = Date.now() + 30_000;
    let now: Instance | undefined;
    while (Date.now() < deadline) {
      now = (await runtime.list({ app })).find((i) => i.id === instance.id);
      if (now?.state === 'exited' && now.restartCount === MAX_RESTARTS) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(now).toMatchObject({ state: 'exited', exitCode: 3, restartCount: MAX_RESTARTS });
  });

  it('refuses to stop or remove a container Gantry did not create, even when handed its id', async () => {
    const container = await engine.createContainer({
      name: `${app}-foreign`,
      Image: image,
      Env: ['PORT=8080'],
    });
    foreigners.push(container);
    await container.start();
    const fake = { id: container.id, host: 'local', name: `${app}-foreign` } as Instance;
    await expect(runtime.stop(fake, { timeoutSeconds: 1 })).rejects.toMatchObject({
      code: 'GANTRY_ERR_INSTANCE_CONFLICT',
    });
    await expect(runtime.remove(fake)).rejects.toMatchObject({
      code: 'GANTRY_ERR_INSTANCE_CONFLICT',
    });
    expect((await container.inspect()).State.Running).toBe(true);
  });

  it('refuses a slot whose name a foreign container holds', async () => {
    const container = await engine.createContainer({
      name: `gantry-${app}--test--taken`,
      Image: image,
    });
    foreigners.push(container);
    const e = await runtime.start(spec('taken')).catch((err: unknown) => err);
    expect(isGantryError(e, 'GANTRY_ERR_INSTANCE_CONFLICT')).toBe(true);
    expect((await container.inspect()).State.Status).toBe('created');
  });

  it('prunes the app images except the kept ones and those in use', async () => {
    const v2 = await buildContractImage({
      registry: env.registry,
      app,
      version: '2',
      dir: join(env.runDir, `${app}-2`),
    });
    const v3 = await buildContractImage({
      registry: env.registry,
      app,
      version: '3',
      dir: join(env.runDir, `${app}-3`),
    });
    images.push(v2, v3);
    await runtime.ensureImage('local', v2);
    await runtime.ensureImage('local', v3);
    // `image` (v1) runs in the containers of the tests above; v3 gets one now; v2 is unused.
    await runtime.start(
      spec('v3', { image: v3, revision: 'd0cker0000000000000000000000000000000003' }),
    );
    const removed = await runtime.removeImages('local', [image], app);
    expect(removed).toEqual([v2]);
    expect(await hasImage(engine, v2)).toBe(false);
    expect(await hasImage(engine, image)).toBe(true);
    expect(await hasImage(engine, v3)).toBe(true);
    expect(await runtime.removeImages('local', [image], app)).toEqual([]);
  });
});

describe('DockerRuntime on two hosts (a second dockerd)', () => {
  const env = testEnv();
  const app = uniqueName('rt2');
  let second: SecondDocker | undefined;
  let unavailable: string | undefined;
  let runtime: DockerRuntime | undefined;
  let image = '';

  beforeAll(async () => {
    unavailable = await secondDockerUnavailable();
    if (unavailable === undefined) {
      try {
        second = await startSecondDocker();
      } catch (e) {
        unavailable = errorMessage(e);
      }
    }
    if (second === undefined) {
      console.warn(`two-host tests skipped: ${unavailable ?? 'unknown reason'}`);
      return;
    }
    runtime = new DockerRuntime({ hosts: [LOCAL, { name: 'second', endpoint: second.endpoint }] });
    image = await buildContractImage({
      registry: env.registry,
      app,
      version: '1',
      dir: join(env.runDir, app),
    });
  }, 180_000);

  afterAll(async () => {
    if (runtime)
      for (const i of await runtime.list({ app }).catch(() => []))
        await runtime.remove(i).catch(() => undefined);
    if (image) await removeImageQuietly(engine, image);
    await second?.stop();
  }, 120_000);

  it('pulls the image onto the second host and runs replicas on both, each reachable on 127.0.0.1', async (ctx) => {
    if (runtime === undefined || second === undefined)
      return ctx.skip(`second Docker engine unavailable: ${unavailable}`);
    const docker2 = new Docker({ socketPath: second.layout.socketPath });
    expect(runtime.hosts()).toEqual(['local', 'second']);
    expect(await hasImage(docker2, image)).toBe(false);
    const t0 = Date.now();
    await runtime.ensureImage('second', image);
    const pullMs = Date.now() - t0;
    expect(await hasImage(docker2, image)).toBe(true);

    const base: Omit<InstanceSpec, 'slot' | 'host'> = {
      app,
      env: 'multi',
      revision: 'a11h0575000000000000000000000000000000001',
      rolloutId: 'r1',
      image,
      port: CONTRACT_APP_PORT,
      vars: {},
      secrets: {},
    };
    const started = await Promise.all([
      runtime.start({ ...base, slot: 'r0', host: 'local' }),
      runtime.start({ ...base, slot: 'r1', host: 'second' }),
      runtime.start({ ...base, slot: 'r2', host: 'second' }),
    ]);
    const listed = await runtime.list({ app });
    expect(listed.map((i) => `${i.host}/${i.slot}/${i.state}`)).toEqual([
      'local/r0/running',
      'second/r1/running',
      'second/r2/running',
    ]);
    expect(new Set(started.map((i) => i.id)).size).toBe(3);
    for (const i of listed) {
      const deadline = Date.now() + 10_000;
      let status = 0;
      while (Date.now() < deadline && status !== 200) {
        status = await fetch(`http://127.0.0.1:${i.hostPort}/healthz`, {
          signal: AbortSignal.timeout(2_000),
        }).then(
          (r) => r.status,
          () => 0,
        );
        if (status !== 200) await new Promise((r) => setTimeout(r, 100));
      }
      expect(`${i.host}/${i.slot} → ${status}`).toBe(`${i.host}/${i.slot} → 200`);
    }
    // The same slot on the second host, asked again, is the same container.
    expect((await runtime.start({ ...base, slot: 'r1', host: 'second' })).id).toBe(started[1]?.id);
    for (const i of listed) await runtime.stop(i, { timeoutSeconds: 5 });
    for (const i of listed) await runtime.remove(i);
    expect(await runtime.list({ app })).toEqual([]);
    expect(await runtime.removeImages('second', [], app)).toEqual([image]);
    expect(await hasImage(docker2, image)).toBe(false);
    ctx.annotate(`pull onto the second host took ${pullMs} ms`);
  });
});
