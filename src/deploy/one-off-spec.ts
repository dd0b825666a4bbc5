/**
 * The runtime's instructions for a one-off (release phase, `gantry run`): the release's image with
 * the same environment its instances get (spec env < release vars < GANTRY_*), but no port, no
 * health check. Pure, so tests assert on it.
 */
import type { AppSpec } from '../config/app-spec.js';
import type { OneOffSpec } from '../runtime/runtime.js';
import { releaseVars, type ReleaseConfig } from './instance-spec.js';

export function oneOffSpec(input: {
  spec: AppSpec;
  env: string;
  purpose: OneOffSpec['purpose'];
  key: string;
  command: readonly string[];
  revision: string;
  image: string;
  host: string;
  config: ReleaseConfig;
  release?: number | undefined;
}): OneOffSpec {
  const { spec } = input;
  return {
    app: spec.app,
    env: input.env,
    revision: input.revision,
    ...(input.release === undefined ? {} : { release: input.release }),
    purpose: input.purpose,
    key: input.key,
    image: input.image,
    command: [...input.command],
    vars: releaseVars(input),
    secrets: input.config.secrets,
    cpu: spec.run.resources.cpu,
    memoryBytes: spec.run.resources.memoryBytes,
    host: input.host,
  };
}
