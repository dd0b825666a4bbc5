/**
 * The one owner of Redis key names (BullMQ's queue-keys.ts habit). Everything Gantry keeps in
 * Redis lives under one prefix, so an operator can find, back up or drop it as a unit.
 */
export class Keys {
  constructor(readonly prefix: string) {}

  private k(...parts: string[]): string {
    return [this.prefix, ...parts].join(':');
  }

  /** Set of app names the controller knows. */
  apps(): string {
    return this.k('apps');
  }
  /**
   * SCAN patterns of every key that belongs to `app` alone, its name a segment of its own right
   * after the kind (app names hold no `:` or glob characters): what forgetting a removed app
   * deletes, besides the build and rollout records its indexes name. Keep in step with this class.
   */
  appKeyPatterns(app: string): string[] {
    const kinds = [
      ...['app', 'app-owner', 'claim-refused', 'skipped', 'build-lease'],
      ...['revision', 'revision-image', 'revisions', 'builds', 'pending-deploys'],
      ...['rollouts', 'rollouts-of', 'rollouts-by-sha', 'rollouts-by-pr', 'rollout-lease'],
      ...['env', 'env-desired', 'env-lock', 'env-pin', 'env-rollback-asked', 'env-status'],
      ...['env-events', 'failed-revisions', 'reconcile-owner'],
      ...['config-vars', 'config-secrets', 'config-scale', 'secret-values', 'secret-seq'],
      ...['release', 'releases', 'release-seq'],
    ];
    return kinds.flatMap((kind) => [this.k(kind, app), this.k(kind, app, '*')]);
  }
  /** JSON: where an app comes from (repo, path) and its last spec check. */
  app(app: string): string {
    return this.k('app', app);
  }
  /** JSON {repo, path, at}: who owns an app name (first claim wins, SET NX; released by an admin). */
  appOwner(app: string): string {
    return this.k('app-owner', app);
  }
  /** Marker that a push claiming an app it does not own was refused and recorded (once per commit). */
  claimRefused(app: string, repo: string, path: string, sha: string): string {
    return this.k('claim-refused', app, repo, path, sha);
  }
  /** Marker that a sync skipped an app at a commit (path filters) and recorded it (once per commit). */
  skipped(app: string, sha: string): string {
    return this.k('skipped', app, sha);
  }
  /** Hash `repo:path` → app name, so a broken spec is still recorded under the right app. */
  appByPath(): string {
    return this.k('app-by-path');
  }
  /** JSON: one revision (commit + image) of an app. */
  revision(app: string, sha: string): string {
    return this.k('revision', app, sha);
  }
  /** JSON: the image built from a revision, written once (SET NX). */
  revisionImage(app: string, sha: string): string {
    return this.k('revision-image', app, sha);
  }
  /** Sorted set of an app's revisions by first sighting. */
  revisions(app: string): string {
    return this.k('revisions', app);
  }
  /** JSON: one build attempt record. */
  build(id: string): string {
    return this.k('build', id);
  }
  /** Sorted set of an app's builds by creation time. */
  builds(app: string): string {
    return this.k('builds', app);
  }
  /** List of log lines of one build. */
  buildLog(id: string): string {
    return this.k('build-log', id);
  }
  /** Sorted set of heads fetched for a repo branch, scored by fetch start: the top is newest. */
  heads(repo: string, branch: string): string {
    return this.k('heads', repo, branch);
  }
  /** The sync job most recently enqueued for a repo branch (coalescing pointer). */
  latestSync(repo: string, branch: string): string {
    return this.k('latest-sync', repo, branch);
  }
  /** Marker that a forge delivery was accepted (redelivery is then a no-op). */
  delivery(provider: string, id: string): string {
    return this.k('delivery', provider, id);
  }
  /** Capped list of recent webhook deliveries and what became of them. */
  deliveries(): string {
    return this.k('deliveries');
  }
  /** Lease held by the one build of an app that may run at a time. */
  buildLease(app: string): string {
    return this.k('build-lease', app);
  }
  /** JSON: one rollout record with its persisted plan and state. */
  rollout(id: string): string {
    return this.k('rollout', id);
  }
  /** Sorted set of an environment's rollouts by creation time. */
  rollouts(app: string, env: string): string {
    return this.k('rollouts', app, env);
  }
  /** Sorted set of all of an app's rollouts (every environment) by creation time: history. */
  appRollouts(app: string): string {
    return this.k('rollouts-of', app);
  }
  /** Sorted set of an app's rollouts to one commit, by creation time: history by commit. */
  rolloutsBySha(app: string, sha: string): string {
    return this.k('rollouts-by-sha', app, sha);
  }
  /** Sorted set of an app's rollouts of one pull request's commit, by creation time. */
  rolloutsByPr(app: string, pr: number): string {
    return this.k('rollouts-by-pr', app, String(pr));
  }
  /** List of one rollout's events (capped). */
  rolloutEvents(id: string): string {
    return this.k('rollout-events', id);
  }
  /** List of pause / resume / abort requests waiting for the rollout's next step. */
  rolloutIntents(id: string): string {
    return this.k('rollout-intents', id);
  }
  /** JSON: where one environment stands (current revision, desired revision, route). */
  envState(app: string, env: string): string {
    return this.k('env', app, env);
  }
  /** The newest revision a deploy was requested for (its own key: written outside the lease). */
  envDesired(app: string, env: string): string {
    return this.k('env-desired', app, env);
  }
  /** JSON: an environment's deploy freeze (its own key: written by the API, outside the lease). */
  envLock(app: string, env: string): string {
    return this.k('env-lock', app, env);
  }
  /** JSON: an environment's pin after a rollback (written by the runner and by unpin). */
  envPin(app: string, env: string): string {
    return this.k('env-pin', app, env);
  }
  /**
   * JSON {rolloutId, sha, at}: the newest rollback asked for an environment and when, so the pin
   * it leaves (and automation meanwhile) can hold the commits pushed before it.
   */
  envRollbackAsked(app: string, env: string): string {
    return this.k('env-rollback-asked', app, env);
  }
  /** Hash env → trigger JSON: manual deploys waiting for the build of an app's commit. */
  pendingDeploys(app: string, sha: string): string {
    return this.k('pending-deploys', app, sha);
  }
  /** Marker that a rollout's "waiting for the lock" event was written (written once). */
  lockNoticed(rolloutId: string): string {
    return this.k('lock-noticed', rolloutId);
  }
  /** Lease held by the one rollout of an app environment that may run at a time. */
  rolloutLease(app: string, env: string): string {
    return this.k('rollout-lease', app, env);
  }
  /** Set of commits that failed to roll out to an environment: never retried automatically. */
  failedRevisions(app: string, env: string): string {
    return this.k('failed-revisions', app, env);
  }
  /** JSON: an environment's status as the reconciler last wrote it (EnvStatus). */
  envStatus(app: string, env: string): string {
    return this.k('env-status', app, env);
  }
  /** List of an environment's events outside rollouts (self-heal, drift, prune), capped. */
  envEvents(app: string, env: string): string {
    return this.k('env-events', app, env);
  }
  /** Lease naming the controller that reconciles one environment (one at a time). */
  reconcileOwner(app: string, env: string): string {
    return this.k('reconcile-owner', app, env);
  }
  /** Set of `app\nenv` pairs that ever had a current revision: what the reconciler visits. */
  deployedEnvs(): string {
    return this.k('deployed-envs');
  }
  /** Hash KEY → JSON {value, by, at}: an environment's plain config vars. */
  configVars(app: string, env: string): string {
    return this.k('config-vars', app, env);
  }
  /** Hash KEY → JSON {version, by, at}: an environment's secrets, names and versions only. */
  configSecrets(app: string, env: string): string {
    return this.k('config-secrets', app, env);
  }
  /** Hash process → JSON {replicas, by, at}: an environment's formation (`gantry scale`). */
  configScale(app: string, env: string): string {
    return this.k('config-scale', app, env);
  }
  /** Hash version → sealed value (AES-256-GCM) of one secret: every version a release may name. */
  secretValues(app: string, env: string, name: string): string {
    return this.k('secret-values', app, env, name);
  }
  /** Hash KEY → the last version number handed out for that secret. */
  secretSeq(app: string, env: string): string {
    return this.k('secret-seq', app, env);
  }
  /** JSON: release vN of an environment (image + config). */
  release(app: string, env: string, version: number): string {
    return this.k('release', app, env, String(version));
  }
  /** Sorted set of an environment's release numbers (scored by number). */
  releases(app: string, env: string): string {
    return this.k('releases', app, env);
  }
  /** Counter of an environment's release numbers. */
  releaseSeq(app: string, env: string): string {
    return this.k('release-seq', app, env);
  }
  /** Counter of edge listener ports handed out to environments. */
  edgePorts(): string {
    return this.k('edge-ports');
  }
  /** Stream of every event (rollout progress, environment changes, builds): see src/events/bus.ts. */
  events(): string {
    return this.k('events');
  }
  /** Consumer group of the history reporters on the event stream (a name, not a key). */
  reportersGroup(): string {
    return this.k('reporters');
  }
  /** Marker that a commit status was posted for one rollout (its final one must follow). */
  forgeStatusPosted(rolloutId: string): string {
    return this.k('forge-status-posted', rolloutId);
  }
  /** The GitHub Deployment id created for one rollout (expires with the reporting of it). */
  forgeDeployment(rolloutId: string): string {
    return this.k('forge-deployment', rolloutId);
  }
  /**
   * A rate-limit bucket (GCRA: the theoretical arrival time in ms, expiring with it), shared by
   * every controller. `scope` is the limit (`api`, `webhook-failures`), `who` the caller
   * (`token:<name>` or `addr:<ip>`).
   */
  rateLimit(scope: string, who: string): string {
    return this.k('rate', scope, who);
  }
  /** Counter used to build sortable ids. */
  sequence(): string {
    return this.k('seq');
  }
}
