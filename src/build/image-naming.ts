import type { ImageRef } from '../store/records.js';

/** `<registry>/<app>:<sha12>`: the human-facing name of a revision's image. */
export function imageTag(registry: string, app: string, sha: string): string {
  return `${registry}/${app}:${sha.slice(0, 12)}`;
}

/** The reference runtimes deploy: pinned by digest, so a moved tag can never change what runs. */
export function pinnedImage(registry: string, app: string, tag: string, digest: string): ImageRef {
  return { tag, digest, pinned: `${registry}/${app}@${digest}` };
}

/** OCI annotations (image-spec annotations.md) plus Gantry's own, stamped on every image. */
export function imageLabels(input: {
  app: string;
  sha: string;
  source: string;
  buildId: string;
  created: Date;
}): Record<string, string> {
  return {
    'org.opencontainers.image.revision': input.sha,
    'org.opencontainers.image.source': input.source,
    'org.opencontainers.image.created': input.created.toISOString(),
    'org.opencontainers.image.title': input.app,
    'dev.gantry.app': input.app,
    'dev.gantry.build': input.buildId,
  };
}
