/** Every metric name Gantry exposes, in one place (one owner per resource name). */
export const METRIC = {
  buildsTotal: 'gantry_builds_total',
  buildDuration: 'gantry_build_duration_seconds',
  rolloutsTotal: 'gantry_rollouts_total',
  rolloutDuration: 'gantry_rollout_duration_seconds',
  healthVerdicts: 'gantry_instance_health_total',
  events: 'gantry_events_total',
  queueJobs: 'gantry_queue_jobs',
  selfHeal: 'gantry_self_heal_total',
  driftEvents: 'gantry_drift_events_total',
  envHealth: 'gantry_environment_health',
  envSync: 'gantry_environment_sync',
  envInstances: 'gantry_environment_instances',
  envOrphaned: 'gantry_environment_orphaned',
} as const;
