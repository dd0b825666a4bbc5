/** Image presence and pulls on the local engine, as the kubelet's image manager does them. */
import type { Readable } from 'node:stream';
import type Docker from 'dockerode';

/** The image's digest reference (or id) when present locally, else undefined. */
export async function presentImage(docker: Docker, image: string): Promise<string | undefined> {
  const info = await docker
    .getImage(image)
    .inspect()
    .catch(() => undefined);
  return info && (info.RepoDigests?.[0] ?? info.Id);
}

/** Pulls an image; resolves with the engine's error message, or undefined on success. */
export async function pullImage(docker: Docker, image: string): Promise<string | undefined> {
  try {
    const stream = (await docker.pull(image)) as Readable;
    return await new Promise<string | undefined>((resolve) => {
      let failure: string | undefined;
      docker.modem.followProgress(
        stream,
        (err) => resolve(err ? err.message : failure),
        (ev: { error?: string; errorDetail?: { message?: string } }) => {
          if (ev.error) failure = ev.errorDetail?.message ?? ev.error;
        },
      );
    });
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}
