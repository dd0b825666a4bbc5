/**
 * What the engine is asked to create for a one-off (release phase, `gantry run`), built purely so
 * tests assert on the data: the release's image and config, no published port, no restart, and
 * labels that say "one-off" so it is never listed as an instance.
 */
import type Docker from 'dockerode';
import { envKey, NAME_SEPARATOR } from '../../config/env-names.js';
import type { OneOffSpec } from '../runtime.js';
import { dockerName, processHostConfig, sortedEnv } from './container-spec.js';
import { LABEL } from './labels.js';

/**
 * `gantry-<app>--<env>--<purpose>-<key>`: deterministic, so a second attempt with the same key
 * (a resumed release phase) finds the first container instead of starting another.
 */
export function oneOffName(spec: Pick<OneOffSpec, 'app' | 'env' | 'purpose' | 'key'>): string {
  const raw = `gantry-${envKey(spec.app, spec.env)}${NAME_SEPARATOR}${spec.purpose}-${spec.key}`;
  return dockerName(raw);
}

/** Identifiers only, never a value: `docker ps` shows labels to anyone with access. */
export function oneOffLabels(spec: OneOffSpec, deadline: number): Record<string, string> {
  return {
    [LABEL.managed]: 'true',
    [LABEL.app]: spec.app,
    [LABEL.env]: spec.env,
    [LABEL.revision]: spec.revision,
    ...(spec.release === undefined ? {} : { [LABEL.release]: String(spec.release) }),
    [LABEL.oneOff]: spec.purpose,
    [LABEL.deadline]: String(deadline),
  };
}

/** vars < secrets < GANTRY_*, sorted, as instances get them (container-spec.ts). */
export function oneOffEnv(spec: OneOffSpec): string[] {
  const env: Record<string, string> = {
    ...spec.vars,
    ...spec.secrets,
    GANTRY_APP: spec.app,
    GANTRY_ENV: spec.env,
    GANTRY_REVISION: spec.revision,
    GANTRY_ONE_OFF: spec.purpose,
  };
  return sortedEnv(env);
}

/** `POST /containers/create` for a one-off. Pure. */
export function oneOffCreateOptions(
  spec: OneOffSpec,
  opts: { deadline: number; tty: boolean; stdin: boolean },
): Docker.ContainerCreateOptions {
  return {
    name: oneOffName(spec),
    Image: spec.image,
    Cmd: [...spec.command],
    Env: oneOffEnv(spec),
    Labels: oneOffLabels(spec, opts.deadline),
    Tty: opts.tty,
    OpenStdin: opts.stdin,
    // The command sees EOF when the client closes its input, as `docker run -i` does.
    StdinOnce: opts.stdin,
    AttachStdin: opts.stdin,
    AttachStdout: true,
    AttachStderr: true,
    HostConfig: {
      // Runs once: a failure is the answer, not something to restart.
      RestartPolicy: { Name: 'no' },
      ...processHostConfig(spec),
    },
  };
}

/** Whether a one-off's deadline label says it is a leftover at `now`. Pure. */
export function isLeftover(
  labels: Readonly<Record<string, string>> | undefined,
  now: number,
): boolean {
  const deadline = Number(labels?.[LABEL.deadline]);
  return Number.isFinite(deadline) && deadline < now;
}
