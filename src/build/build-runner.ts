import path from 'node:path';
import { Readable } from 'node:stream';
import type { Logger } from 'pino';
import { GantryError, errorMessage, isGantryError } from '../errors.js';
import {
  DEFAULT_RETRY,
  isTransient,
  retryDelay,
  shouldRetry,
  type RetryPolicy,
} from '../queue/retry.js';
import type { BuildJob } from '../queue/jobs.js';
import type { ImageBuilder } from '../runtime/image-builder.js';
import { buildContextTar } from '../source/build-context.js';
import { redactUrl } from '../source/remote-url.js';
import type { RepoRegistry } from '../source/repos.js';
import { specAt } from '../source/spec-at.js';
import type { BuildRecord, BuildRetry, ImageRef } from '../store/records.js';
import type { Store } from '../store/store.js';
import { BuildLog } from './build-log.js';
import { imageLabels, imageTag, pinnedImage } from './image-naming.js';

export interface BuildDeps {
  store: Store;
  repos: RepoRegistry;
  builder: ImageBuilder;
  registry: string;
  timeoutSeconds: number;
  logLines: number;
  log: Logger;
  /** The queue's retry policy: the record's "next try at" is computed with it (DEFAULT_RETRY). */
  retry?: RetryPolicy | undefined;
  /** The cap on a build context's total size (build.maxContextSize; default 2 GiB). */
  maxContextBytes?: number | undefined;
}

export type BuildOutcome =
  | { kind: 'built'; image: ImageRef }
  | { kind: 'reused'; image: ImageRef }
  | { kind: 'superseded'; by: string };

export { shouldRetry } from '../queue/retry.js';

/**
 * Builds one app at one commit and pushes it, as an ordered list of small steps:
 * reuse a recorded image → skip if superseded → build from the commit's tree → push → record.
 * Safe to repeat (BullMQ delivers at least once): every step checks what is already recorded.
 */
export async function runBuild(
  deps: BuildDeps,
  job: BuildJob,
  attempt: number,
  maxAttempts: number,
): Promise<BuildOutcome> {
  const record = await ensureRecord(deps.store, job);
  const revision = await deps.store.getRevision(job.app, job.sha);
  if (revision?.image) {
    await finish(deps.store, record.id, 'reused', {
      image: revision.image,
      note: 'image already built',
    });
    return { kind: 'reused', image: revision.image };
  }
  if (!job.force) {
    const head = await deps.store.latestHeadAt(job.repo, job.branch);
    const newest = head?.sha;
    // Only a newer head that is a revision of this app supersedes it: a head whose push did not
    // touch the app's paths was skipped for it, and this commit is still the app's newest. A head
    // recorded before this build's sync began is an older one, not a newer.
    const later = head !== undefined && (job.syncedAt === undefined || head.at > job.syncedAt);
    if (newest && later && newest !== job.sha && (await deps.store.getRevision(job.app, newest))) {
      await finish(deps.store, record.id, 'superseded', {
        note: `superseded by ${newest.slice(0, 12)}, a newer head of ${job.branch}`,
      });
      return { kind: 'superseded', by: newest };
    }
  }

  const current = await deps.store.getBuild(record.id);
  await deps.store.updateBuild(record.id, {
    status: 'running',
    startedAt: new Date().toISOString(),
    attempts: attempt,
    // While it runs: which attempt this is; the last failure stays for whoever reads why.
    retry: { attempt, of: maxAttempts, lastError: current?.retry?.lastError },
    note: attempt > 1 ? `attempt ${attempt} of ${maxAttempts}` : undefined,
  });
  const log = new BuildLog(deps.store, record.id, deps.logLines);
  if (attempt > 1) log.line(`attempt ${attempt} of ${maxAttempts}`);
  try {
    const image = await buildAndPush(deps, job, record.id, log);
    const kept = await deps.store.setRevisionImage(job.app, job.sha, image, record.id);
    log.line(`image ${kept.tag} pinned as ${kept.pinned}`);
    await log.flush();
    await finish(deps.store, record.id, 'succeeded', { image: kept });
    return { kind: 'built', image: kept };
  } catch (e) {
    log.line(`ERROR ${isGantryError(e) ? e.code : 'unexpected'}: ${errorMessage(e)}`);
    await recordFailedAttempt(deps, record.id, log, e, attempt, maxAttempts, new Date());
    throw e;
  }
}

/**
 * Writes what a failed attempt means for the build, in the log and on the record: the next try
 * and when (the queue's own backoff, computed the same way), or the final failure. The record is
 * never left saying "retrying" when no retry will come.
 */
async function recordFailedAttempt(
  deps: BuildDeps,
  id: string,
  log: BuildLog,
  e: unknown,
  attempt: number,
  maxAttempts: number,
  now: Date,
): Promise<void> {
  const code = isGantryError(e) ? e.code : 'GANTRY_ERR_BUILD_FAILED';
  const message = errorMessage(e);
  const lastError = { code, message, at: now.toISOString() };
  if (shouldRetry(e, attempt, maxAttempts)) {
    const delayMs = retryDelay(deps.retry ?? DEFAULT_RETRY, attempt);
    const nextAt = new Date(now.getTime() + delayMs).toISOString();
    const retry: BuildRetry = { attempt, of: maxAttempts, nextAt, lastError };
    log.line(
      `attempt ${attempt} of ${maxAttempts} failed; attempt ${attempt + 1} at ${nextAt} (in ${Math.round(delayMs / 1000)}s)`,
    );
    await log.flush();
    await deps.store.updateBuild(id, {
      status: 'queued',
      retry,
      note: `attempt ${attempt} of ${maxAttempts} failed (${message}); next try at ${nextAt}`,
    });
    return;
  }
  // Permanent errors end at once; transient ones end when the attempts are spent.
  const why = isTransient(e)
    ? `gave up after ${attempt} of ${maxAttempts} attempts`
    : 'not retried: a retry cannot fix it';
  log.line(`build failed: ${why}`);
  await log.flush();
  await finish(deps.store, id, 'failed', {
    failure: {
      code,
      message: attempt > 1 || isTransient(e) ? `${message} (${why})` : message,
      logTail: log.tail(),
    },
    retry: { attempt, of: maxAttempts, lastError },
    note: undefined,
  });
}

async function buildAndPush(
  deps: BuildDeps,
  job: BuildJob,
  buildId: string,
  log: BuildLog,
): Promise<ImageRef> {
  const repo = deps.repos.get(job.repo);
  log.line(`fetching ${redactUrl(repo.config.url)} @ ${job.sha}`);
  const spec = await specAt(repo, job.appPath, job.sha, job.branch);

  const contextDir = path.posix.join(job.appPath, spec.build.context);
  const ctx = await buildContextTar(repo.cache, job.sha, contextDir, {
    dockerfile: spec.build.dockerfile,
    maxBytes: deps.maxContextBytes,
  });
  for (const note of ctx.notes) log.line(`note: ${note}`);
  log.line(
    `context ${contextDir}: ${ctx.files} files, ${ctx.bytes} bytes from the commit's tree` +
      (ctx.excluded > 0 ? ` (${ctx.excluded} excluded by .dockerignore)` : ''),
  );

  const tag = imageTag(deps.registry, job.app, job.sha);
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, deps.timeoutSeconds * 1000);
  try {
    log.line(
      `building ${tag} (dockerfile ${spec.build.dockerfile}${spec.build.target ? `, target ${spec.build.target}` : ''})`,
    );
    await deps.builder.build({
      context: Buffer.isBuffer(ctx.tar) ? Readable.from([ctx.tar]) : ctx.tar,
      tag,
      dockerfile: spec.build.dockerfile,
      target: spec.build.target,
      buildArgs: spec.build.args,
      labels: imageLabels({
        app: job.app,
        sha: job.sha,
        source: redactUrl(repo.config.url),
        buildId,
        created: new Date(),
      }),
      signal: controller.signal,
      onLog: (l) => log.line(l),
    });
    log.line(`pushing ${tag}`);
    const { digest } = await deps.builder.push({
      tag,
      signal: controller.signal,
      onLog: (l) => log.line(l),
    });
    return pinnedImage(deps.registry, job.app, tag, digest);
  } catch (e) {
    // A context that broke off (a blob unreadable) makes the engine report a vaguer error.
    const contextFailure = ctx.failure();
    if (contextFailure) throw contextFailure;
    if (timedOut) {
      await deps.builder.removeTag(tag);
      throw new GantryError(
        'GANTRY_ERR_BUILD_TIMEOUT',
        `build exceeded its timeout of ${deps.timeoutSeconds}s and was stopped`,
        { cause: e },
      );
    }
    throw e;
  } finally {
    clearTimeout(timer);
  }
}

/** The sync step writes the record first; a redelivered or hand-made job may come without one. */
async function ensureRecord(store: Store, job: BuildJob): Promise<BuildRecord> {
  const existing = await store.getBuild(job.buildId);
  if (existing) return existing;
  const record: BuildRecord = {
    id: job.buildId,
    app: job.app,
    sha: job.sha,
    repo: job.repo,
    branch: job.branch,
    trigger: { kind: 'manual', actor: 'queue' },
    status: 'queued',
    createdAt: new Date().toISOString(),
    attempts: 0,
  };
  await store.putBuild(record);
  return record;
}

function finish(
  store: Store,
  id: string,
  status: BuildRecord['status'],
  patch: Partial<BuildRecord>,
): Promise<BuildRecord> {
  return store.updateBuild(id, { ...patch, status, finishedAt: new Date().toISOString() });
}
