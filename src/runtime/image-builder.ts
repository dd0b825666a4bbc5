import type { Readable } from 'node:stream';

/** What the build layer asks of an image builder; the Docker engine is the one we ship. */
export interface ImageBuildRequest {
  /** A tar of the build context (only what the commit's tree holds). */
  context: Readable;
  /** `<registry>/<app>:<sha12>` */
  tag: string;
  /** Dockerfile path inside the context. */
  dockerfile: string;
  target?: string | undefined;
  buildArgs: Record<string, string>;
  labels: Record<string, string>;
  signal: AbortSignal;
  onLog: (line: string) => void;
}

export interface ImagePushRequest {
  tag: string;
  signal: AbortSignal;
  onLog: (line: string) => void;
}

export interface ImageBuilder {
  /** Throws GANTRY_ERR_DOCKER_UNAVAILABLE when the engine cannot be reached. */
  ping(): Promise<void>;
  build(req: ImageBuildRequest): Promise<{ imageId: string }>;
  push(req: ImagePushRequest): Promise<{ digest: string }>;
  removeTag(tag: string): Promise<void>;
}
