import type { Readable } from 'node:stream';
import Docker from 'dockerode';
import { GantryError, errorMessage } from '../../errors.js';
import {
  dockerAuthFor,
  isRegistryAuthFailure,
  type RegistryAccess,
} from '../../registry/credentials.js';
import type { ImageBuilder, ImageBuildRequest, ImagePushRequest } from '../image-builder.js';

/** One JSON line of the engine's build or push progress stream. */
interface ProgressEvent {
  stream?: string;
  status?: string;
  progress?: string;
  id?: string;
  error?: string;
  errorDetail?: { message?: string };
  aux?: { ID?: string; Digest?: string; Tag?: string; Size?: number };
}

/** The engine's `/build` query, built purely so tests can assert on it (Kamal's habit). */
export function buildImageOptions(req: Omit<ImageBuildRequest, 'context' | 'onLog' | 'signal'>) {
  return {
    t: req.tag,
    dockerfile: req.dockerfile,
    ...(req.target ? { target: req.target } : {}),
    buildargs: req.buildArgs,
    labels: req.labels,
    // Never reach out for base images: builds must be reproducible from what the host has.
    pull: false,
    rm: true,
    forcerm: true,
  };
}

/** Connection errors mean "try again later", not "the Dockerfile is wrong". */
function isConnectionError(e: unknown): boolean {
  const code = (e as { code?: string }).code;
  return ['ECONNREFUSED', 'ENOENT', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN'].includes(
    code ?? '',
  );
}

function follow(
  docker: Docker,
  stream: Readable,
  onEvent: (ev: ProgressEvent) => void,
): Promise<ProgressEvent[]> {
  return new Promise((resolve, reject) => {
    docker.modem.followProgress(
      stream,
      (err: Error | null, out: ProgressEvent[]) => (err ? reject(err) : resolve(out)),
      onEvent,
    );
  });
}

function splitLines(text: string): string[] {
  return text
    .split('\n')
    .map((l) => l.replace(/\r$/, ''))
    .filter((l) => l.length > 0);
}

/** Builds and pushes images through the Docker engine API (dockerode). */
export class DockerImageBuilder implements ImageBuilder {
  private readonly docker: Docker;
  private readonly registry: RegistryAccess | undefined;

  constructor(
    opts: {
      socketPath?: string | undefined;
      host?: string | undefined;
      /** Where images are pushed, with the credentials to push them (if it needs any). */
      registry?: RegistryAccess | undefined;
    } = {},
  ) {
    this.registry = opts.registry;
    this.docker = opts.host
      ? new Docker(tcpEndpoint(opts.host))
      : new Docker({ socketPath: opts.socketPath ?? '/var/run/docker.sock' });
  }

  async ping(): Promise<void> {
    try {
      await this.docker.ping();
    } catch (cause) {
      throw new GantryError('GANTRY_ERR_DOCKER_UNAVAILABLE', 'the Docker engine is not reachable', {
        cause,
      });
    }
  }

  /** Builds an image from a tar context; resolves with the image id or throws a classified error. */
  async build(req: ImageBuildRequest): Promise<{ imageId: string }> {
    let stream: Readable;
    try {
      stream = (await this.docker.buildImage(req.context, {
        ...buildImageOptions(req),
        abortSignal: req.signal,
      })) as Readable;
    } catch (cause) {
      throw this.classify(cause, 'build');
    }
    let imageId: string | undefined;
    let failure: string | undefined;
    try {
      await follow(this.docker, stream, (ev) => {
        if (ev.stream) for (const l of splitLines(ev.stream)) req.onLog(l);
        if (ev.status) req.onLog(ev.status);
        if (ev.aux?.ID) imageId = ev.aux.ID;
        if (ev.error || ev.errorDetail) {
          failure = ev.errorDetail?.message ?? ev.error ?? 'unknown build error';
          req.onLog(`ERROR: ${failure}`);
        }
      });
    } catch (cause) {
      throw this.classify(cause, 'build');
    }
    if (failure !== undefined) {
      throw new GantryError('GANTRY_ERR_BUILD_FAILED', failure);
    }
    if (!imageId) {
      // The classic builder reports "Successfully built <id>" rather than an aux ID.
      const inspect = await this.docker.getImage(req.tag).inspect();
      imageId = inspect.Id;
    }
    return { imageId };
  }

  /** Pushes a tag to its registry and returns the manifest digest the registry stored. */
  async push(req: ImagePushRequest): Promise<{ digest: string }> {
    const { repository, tag } = splitTag(req.tag);
    let digest: string | undefined;
    let failure: string | undefined;
    try {
      const authconfig = dockerAuthFor(req.tag, this.registry);
      const stream = (await this.docker.getImage(repository).push({
        tag,
        abortSignal: req.signal,
        ...(authconfig ? { authconfig } : {}),
      })) as unknown as Readable;
      await follow(this.docker, stream, (ev) => {
        if (ev.status && !ev.progress) req.onLog(ev.id ? `${ev.id}: ${ev.status}` : ev.status);
        if (ev.aux?.Digest) digest = ev.aux.Digest;
        if (ev.error || ev.errorDetail) failure = ev.errorDetail?.message ?? ev.error;
      });
    } catch (cause) {
      throw this.classify(cause, 'push');
    }
    if (failure !== undefined && isRegistryAuthFailure(failure)) {
      // Retrying cannot help: the credentials are missing or wrong until a person sets them.
      throw new GantryError(
        'GANTRY_ERR_REGISTRY_AUTH',
        `push of ${req.tag} was refused by the registry: ${failure} (check registry.username and registry.passwordEnv)`,
      );
    }
    if (failure !== undefined) {
      // A push fails because the registry is away far more often than for anything the user did.
      throw new GantryError(
        'GANTRY_ERR_REGISTRY_UNAVAILABLE',
        `push of ${req.tag} failed: ${failure}`,
      );
    }
    if (!digest) {
      throw new GantryError(
        'GANTRY_ERR_REGISTRY_UNAVAILABLE',
        `push of ${req.tag} reported no digest`,
      );
    }
    return { digest };
  }

  /** Removes a local tag (the image stays in the registry); used after failed builds. */
  async removeTag(tag: string): Promise<void> {
    try {
      await this.docker.getImage(tag).remove({ noprune: true });
    } catch {
      // Already gone is fine: removal is a courtesy, never a reason to fail.
    }
  }

  private classify(cause: unknown, what: 'build' | 'push'): GantryError {
    if (cause instanceof GantryError) return cause;
    if ((cause as { name?: string }).name === 'AbortError') {
      return new GantryError('GANTRY_ERR_BUILD_TIMEOUT', `${what} was stopped`, { cause });
    }
    if (isConnectionError(cause)) {
      return new GantryError(
        'GANTRY_ERR_DOCKER_UNAVAILABLE',
        `the Docker engine is not reachable during ${what}: ${errorMessage(cause)}`,
        { cause },
      );
    }
    const status = (cause as { statusCode?: number }).statusCode;
    if (what === 'build' && status !== undefined && status < 500) {
      return new GantryError('GANTRY_ERR_BUILD_FAILED', errorMessage(cause), { cause });
    }
    return new GantryError(
      what === 'push' ? 'GANTRY_ERR_REGISTRY_UNAVAILABLE' : 'GANTRY_ERR_DOCKER_UNAVAILABLE',
      `${what} failed: ${errorMessage(cause)}`,
      { cause },
    );
  }
}

/** `127.0.0.1:5000/hello:abc` → repository `127.0.0.1:5000/hello`, tag `abc`. */
export function splitTag(ref: string): { repository: string; tag: string } {
  const slash = ref.lastIndexOf('/');
  const colon = ref.lastIndexOf(':');
  if (colon <= slash) return { repository: ref, tag: 'latest' };
  return { repository: ref.slice(0, colon), tag: ref.slice(colon + 1) };
}

/** `tcp://127.0.0.1:2375` → dockerode's host/port options. */
function tcpEndpoint(host: string): { host: string; port: number; protocol: 'http' } {
  const url = new URL(host.replace(/^tcp:/, 'http:'));
  return { host: url.hostname, port: Number(url.port || 2375), protocol: 'http' };
}
