/**
 * The one owner of Gantry's container label keys. Labels are how instances are found again after
 * a controller restart, and how containers Gantry did not create are told apart and left alone.
 * Secret values never go into labels: anyone with `docker ps` access can read them.
 */

export const LABEL = {
  managed: 'dev.gantry.managed',
  app: 'dev.gantry.app',
  env: 'dev.gantry.env',
  revision: 'dev.gantry.revision',
  rollout: 'dev.gantry.rollout',
  slot: 'dev.gantry.slot',
  /** The release number (image + config) the instance runs; absent on instances from before releases. */
  release: 'dev.gantry.release',
  /** The process type (`web`, `worker`…); absent on instances from before process types (`web`). */
  process: 'dev.gantry.process',
  /** The container port, so the published host port can be read back without the spec. */
  port: 'dev.gantry.port',
  /**
   * Set (to its purpose, `release` or `run`) on one-off containers: they carry the app's labels
   * but are never instances, so `list` and the events stream leave them out.
   */
  oneOff: 'dev.gantry.oneoff',
  /** Epoch ms after which a one-off is a leftover (its controller died) and may be removed. */
  deadline: 'dev.gantry.deadline',
} as const;

/** The `label=` filters of the engine's list endpoints that select one app (and environment). */
export function instanceLabelFilters(filter: { app: string; env?: string | undefined }): string[] {
  return [
    `${LABEL.managed}=true`,
    `${LABEL.app}=${filter.app}`,
    ...(filter.env === undefined ? [] : [`${LABEL.env}=${filter.env}`]),
  ];
}

/** Whether a container's labels say Gantry created it. */
export function isManaged(labels: Readonly<Record<string, string>> | null | undefined): boolean {
  return labels?.[LABEL.managed] === 'true';
}

/** Whether a container's labels say it is a one-off (release phase, `gantry run`), not an instance. */
export function isOneOff(labels: Readonly<Record<string, string>> | null | undefined): boolean {
  return labels?.[LABEL.oneOff] !== undefined;
}
