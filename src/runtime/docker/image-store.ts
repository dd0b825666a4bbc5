/** Images on one host: made present by pulling their pinned reference, pruned per app. */
import type { Readable } from 'node:stream';
import type Docker from 'dockerode';
import { GantryError } from '../../errors.js';
import {
  dockerAuthFor,
  isRegistryAuthFailure,
  type RegistryAccess,
} from '../../registry/credentials.js';
import { engineError, engineMessage, isConnectionError, statusOf } from './docker-errors.js';
import { imagesToPrune } from './image-prune.js';
import { LABEL } from './labels.js';

interface PullEvent {
  status?: string;
  error?: string;
  errorDetail?: { message?: string };
}

/** Whether the host has `image`; a `repo@sha256:…` ref matches only an image with that digest. */
export async function hasImage(docker: Docker, host: string, image: string): Promise<boolean> {
  try {
    await docker.getImage(image).inspect();
    return true;
  } catch (e) {
    if (statusOf(e) === 404) return false;
    throw engineError(e, `inspect image ${image}`, host, 'GANTRY_ERR_DOCKER_UNAVAILABLE');
  }
}

/**
 * Pulls `image` unless present, with the registry's credentials when it is Gantry's registry. A
 * digest the registry lacks is GANTRY_ERR_IMAGE_MISSING (stalled).
 */
export async function ensureImage(
  docker: Docker,
  host: string,
  image: string,
  registry?: RegistryAccess,
): Promise<void> {
  if (await hasImage(docker, host, image)) return;
  let failure: string | undefined;
  try {
    const authconfig = dockerAuthFor(image, registry);
    const stream = (await docker.pull(image, authconfig ? { authconfig } : {})) as Readable;
    await new Promise<void>((resolve, reject) => {
      docker.modem.followProgress(
        stream,
        (err: Error | null) => (err ? reject(err) : resolve()),
        (ev: PullEvent) => {
          if (ev.error !== undefined || ev.errorDetail !== undefined) {
            failure = ev.errorDetail?.message ?? ev.error ?? 'unknown pull error';
          }
        },
      );
    });
  } catch (e) {
    throw pullError(e, engineMessage(e), host, image);
  }
  if (failure !== undefined) throw pullError(undefined, failure, host, image);
  // The engine can end a pull "successfully" without the digest we asked for; trust only inspect.
  if (!(await hasImage(docker, host, image))) {
    throw new GantryError(
      'GANTRY_ERR_IMAGE_MISSING',
      `pull of ${image} on host "${host}" left no such image`,
    );
  }
}

function pullError(e: unknown, message: string, host: string, image: string): GantryError {
  if (e !== undefined && isConnectionError(e)) {
    return engineError(e, `pull ${image}`, host, 'GANTRY_ERR_DOCKER_UNAVAILABLE');
  }
  const text = `pull of ${image} on host "${host}" failed: ${message}`;
  const opts = e === undefined ? {} : { cause: e };
  if (isRegistryAuthFailure(message))
    return new GantryError('GANTRY_ERR_REGISTRY_AUTH', text, opts);
  // "manifest unknown" is a verdict (the digest is not there); anything else is the registry away.
  if (statusOf(e) === 404 || /manifest unknown|not found|does not exist/i.test(message)) {
    return new GantryError('GANTRY_ERR_IMAGE_MISSING', text, opts);
  }
  return new GantryError('GANTRY_ERR_REGISTRY_UNAVAILABLE', text, opts);
}

/** Removes the app's images except `keep` and those containers use; returns the refs removed. */
export async function removeImages(
  docker: Docker,
  host: string,
  keep: readonly string[],
  app: string,
): Promise<string[]> {
  let images: Docker.ImageInfo[];
  let containers: Docker.ContainerInfo[];
  try {
    [images, containers] = await Promise.all([
      docker.listImages({ filters: { label: [`${LABEL.app}=${app}`] } }),
      docker.listContainers({ all: true }),
    ]);
  } catch (e) {
    throw engineError(e, `list images of ${app}`, host, 'GANTRY_ERR_DOCKER_UNAVAILABLE');
  }
  const inUse = new Set(containers.map((c) => c.ImageID));
  const removed: string[] = [];
  // One at a time: untagging before deleting depends on order, and pruning is never urgent.
  for (const ref of imagesToPrune(images, app, keep, inUse)) {
    try {
      // noprune: the untagged parent layers may be the build cache another build on this engine
      // is using right now; deleting them fails that build ("failed to get digest …").
      await docker.getImage(ref).remove({ noprune: true });
      removed.push(ref);
    } catch (e) {
      const status = statusOf(e);
      // 404: gone already (an earlier ref took it); 409: a container started from it meanwhile.
      if (status === 404 || status === 409) continue;
      throw engineError(e, `remove image ${ref}`, host, 'GANTRY_ERR_DOCKER_UNAVAILABLE');
    }
  }
  return removed;
}
