/**
 * One-off containers on one engine: create (or find again by name), attach, start, wait, remove.
 * What to create is decided by `oneOffCreateOptions`; this file only sends requests.
 *
 * Cleanup, in every way out: removed after the command exits, after its timeout (killed first),
 * after an abort (the client went away); and when the controller itself died meanwhile, the
 * leftover carries a deadline label and `sweepOneOffs` removes it once past it (called before each
 * new one-off on the host and when the controller starts).
 */
import { PassThrough, type Duplex } from 'node:stream';
import type Docker from 'dockerode';
import { GantryError } from '../../errors.js';
import type { OneOffResult, OneOffSpec, RunOnceOptions } from '../runtime.js';
import { engineError, statusOf } from './docker-errors.js';
import { ensureImage } from './image-store.js';
import { LABEL, isManaged, isOneOff } from './labels.js';
import { isLeftover, oneOffCreateOptions, oneOffName } from './one-off-spec.js';
import { decodeFrames } from './stream-frames.js';
import type { RegistryAccess } from '../../registry/credentials.js';

/** How long the output stream may lag behind the exit before it is cut. */
const DRAIN_AFTER_EXIT_MS = 2_000;

type Inspect = Docker.ContainerInspectInfo;

async function inspectOf(c: Docker.Container, host: string): Promise<Inspect | undefined> {
  try {
    return await c.inspect();
  } catch (e) {
    if (statusOf(e) === 404) return undefined;
    throw engineError(e, `inspect ${c.id}`, host, 'GANTRY_ERR_DOCKER_UNAVAILABLE');
  }
}

async function removeQuietly(c: Docker.Container): Promise<void> {
  // 404: gone already; 409: a removal in progress (another attempt's finally).
  await c.remove({ force: true, v: true }).catch(() => undefined);
}

/** Runs a one-off to its end on `docker` (see `Runtime.runOnce`). */
export async function runOnce(
  docker: Docker,
  host: string,
  spec: OneOffSpec,
  opts: RunOnceOptions,
  registry?: RegistryAccess,
): Promise<OneOffResult> {
  const now = opts.now ?? Date.now();
  const secrets = Object.values(spec.secrets);
  const name = oneOffName(spec);
  const tty = opts.tty ?? false;
  const useStdin = opts.stdin !== undefined;
  await sweepOneOffs(docker, host, now).catch(() => 0);
  const container = docker.getContainer(name);
  let info = await inspectOf(container, host);
  let attached = info !== undefined;
  if (info === undefined) {
    await ensureImage(docker, host, spec.image, registry);
    const deadline = now + opts.timeoutMs;
    try {
      await docker.createContainer(oneOffCreateOptions(spec, { deadline, tty, stdin: useStdin }));
    } catch (e) {
      // 409: another attempt with the same key created it first; wait for that one instead.
      if (statusOf(e) !== 409) {
        throw engineError(e, `create ${name}`, host, 'GANTRY_ERR_INSTANCE_START', secrets);
      }
      attached = true;
    }
    info = await inspectOf(container, host);
    if (info === undefined) {
      throw new GantryError(
        'GANTRY_ERR_DOCKER_UNAVAILABLE',
        `${name} vanished right after its creation`,
      );
    }
  }
  if (!isManaged(info.Config.Labels) || !isOneOff(info.Config.Labels)) {
    throw new GantryError(
      'GANTRY_ERR_INSTANCE_CONFLICT',
      `the name ${name} on host "${host}" is held by a container that is not a Gantry one-off`,
    );
  }
  const deadline = Number(info.Config.Labels[LABEL.deadline]);
  const emit = opts.onOutput ?? (() => undefined);
  try {
    // Finished before this attempt looked (its controller died while it ran): its output and
    // exit code are still on the engine until it is removed.
    if (info.State.Status === 'exited' || info.State.Status === 'dead') {
      const logs = await container.logs({ stdout: true, stderr: true, follow: false });
      const text = typeof logs === 'string' ? logs : decodeFrames(logs);
      if (text) emit(text, 'stdout');
      return { exitCode: info.State.ExitCode, timedOut: false, attached: true };
    }
    // Attach before start, or the first lines could be written before anyone listens.
    const stream = (await container.attach({
      stream: true,
      stdout: true,
      stderr: true,
      stdin: useStdin,
      hijack: useStdin,
    })) as Duplex;
    const ended = new Promise<void>((resolve) => {
      stream.once('end', resolve);
      stream.once('close', resolve);
      stream.once('error', () => resolve());
    });
    if (tty || info.Config.Tty) {
      stream.on('data', (chunk: Buffer) => emit(chunk.toString('utf8'), 'stdout'));
    } else {
      const out = new PassThrough();
      const err = new PassThrough();
      out.on('data', (chunk: Buffer) => emit(chunk.toString('utf8'), 'stdout'));
      err.on('data', (chunk: Buffer) => emit(chunk.toString('utf8'), 'stderr'));
      docker.modem.demuxStream(stream, out, err);
    }
    if (info.State.Status === 'created') {
      try {
        await container.start();
      } catch (e) {
        if (statusOf(e) !== 304) {
          throw engineError(e, `start ${name}`, host, 'GANTRY_ERR_INSTANCE_START', secrets);
        }
      }
    }
    if (opts.stdin) {
      opts.stdin.pipe(stream);
      // The command reads EOF when the client's input ends (StdinOnce closes it in the container).
      opts.stdin.once('end', () => stream.end());
    }
    const left = Number.isFinite(deadline) ? Math.max(0, deadline - now) : opts.timeoutMs;
    const outcome = await waitFor(container, left, opts.signal);
    // The stream can trail the exit by a moment: let it drain, then cut it.
    await Promise.race([ended, sleep(DRAIN_AFTER_EXIT_MS)]);
    stream.destroy();
    if (outcome.kind === 'exited') {
      return { exitCode: outcome.exitCode, timedOut: false, attached };
    }
    return { exitCode: -1, timedOut: outcome.kind === 'timeout', attached };
  } catch (e) {
    throw engineError(e, `run ${name}`, host, 'GANTRY_ERR_DOCKER_UNAVAILABLE', secrets);
  } finally {
    await removeQuietly(container);
  }
}

type WaitOutcome = { kind: 'exited'; exitCode: number } | { kind: 'timeout' } | { kind: 'aborted' };

/** The container's exit, or its deadline, or the abort, whichever comes first; kills on the last two. */
async function waitFor(
  container: Docker.Container,
  ms: number,
  signal: AbortSignal | undefined,
): Promise<WaitOutcome> {
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const exited = container.wait().then((r: { StatusCode?: number }): WaitOutcome => ({
    kind: 'exited',
    exitCode: r.StatusCode ?? -1,
  }));
  const timeout = new Promise<WaitOutcome>((resolve) => {
    timer = setTimeout(() => resolve({ kind: 'timeout' }), ms);
  });
  const aborted = new Promise<WaitOutcome>((resolve) => {
    if (!signal) return;
    if (signal.aborted) return resolve({ kind: 'aborted' });
    onAbort = () => resolve({ kind: 'aborted' });
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    const outcome = await Promise.race([exited, timeout, aborted]);
    if (outcome.kind !== 'exited') {
      await container.kill().catch(() => undefined);
      exited.catch(() => undefined);
    }
    return outcome;
  } finally {
    clearTimeout(timer);
    if (onAbort) signal?.removeEventListener('abort', onAbort);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

/** Removes this engine's one-offs past their deadline label; returns how many. */
export async function sweepOneOffs(docker: Docker, host: string, now: number): Promise<number> {
  let entries: Docker.ContainerInfo[];
  try {
    entries = await docker.listContainers({
      all: true,
      filters: { label: [`${LABEL.managed}=true`, LABEL.oneOff] },
    });
  } catch (e) {
    throw engineError(e, 'list one-offs', host, 'GANTRY_ERR_DOCKER_UNAVAILABLE');
  }
  const leftovers = entries.filter((c) => isLeftover(c.Labels, now));
  await Promise.all(leftovers.map((c) => removeQuietly(docker.getContainer(c.Id))));
  return leftovers.length;
}
