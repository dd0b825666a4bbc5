import type { Trigger } from '../store/records.js';

/** Fetch a branch and turn its head into builds. The webhook's SHA is only a hint. */
export interface SyncJob {
  repo: string;
  branch: string;
  hintSha?: string | undefined;
  /**
   * The head before the push, as the forge reported it (all zeros for a new branch); absent for
   * polls and manual syncs. With the last head synced, it bounds what the push changed.
   */
  before?: string | undefined;
  trigger: Trigger;
  /** PR number the forge told us about, when the commit message does not say. */
  prNumber?: number | undefined;
}

/** Build one app at one commit. Never carries secrets: job data is stored in clear. */
export interface BuildJob {
  buildId: string;
  app: string;
  appPath: string;
  repo: string;
  branch: string;
  sha: string;
  /** Manual builds of an older commit must not be skipped as superseded. */
  force: boolean;
  /**
   * When the sync that asked for it began: only a head recorded after this supersedes the build.
   * A lone push's build may start before its sync records the new head, and must not be taken
   * as superseded by the head before it.
   */
  syncedAt?: number | undefined;
}

export type RolloutKind = 'deploy' | 'rollback' | 'auto-rollback';

/** Move one environment of an app to the revision `sha` (already built, pinned by digest). */
export interface RolloutJob {
  rolloutId: string;
  app: string;
  env: string;
  sha: string;
  kind: RolloutKind;
  trigger: Trigger;
  /** A release made beforehand (a config change): rolled out as it is. */
  release?: number | undefined;
  /** A rollback: the release whose image and config come back, as a new release. */
  restore?: number | undefined;
  /**
   * A rolling restart of the running release: every instance of these process types (all of
   * them when empty) is replaced through the health gates, though it runs the target already.
   */
  restart?: string[] | undefined;
}
