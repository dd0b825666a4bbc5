import path from 'node:path';
import { Readable } from 'node:stream';
import type { Logger } from 'pino';
import { GantryError, errorMessage, isGantryError } from '../errors.js';
import type { BuildJob } from '../queue/jobs.js';
import type { ImageBuilder } from '../runtime/image-builder.js';
import { buildContextTar } from '../source/build-context.js';
import { redactUrl } from '../source/remote-url.js';
import type { RepoRegistry } from '../source/repos.js';
import { specAt } from '../source/spec-at.js';
import type { BuildRecord, ImageRef } from '../store/records.js';
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
}

export type BuildOutcome =
  | { kind: 'built'; image: ImageRef }
  | { kind: 'reused'; image: ImageRef }
  | { kind: 'superseded'; by: string };

/** Whether the queue should try again after this error, given the attempts left. */
export function shouldRetry(e: unknown, attempt: number, maxAttempts: number): boolean {
  const transient = !isGantryError(e) || e.disposition === 'transient';
  return transient && attempt < maxAttempts;
}

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
    const newest = await deps.store.latestHead(job.repo, job.branch);
    // Only a newer head that is a revision of this app supersedes it: a head whose push did not
    // touch the app's paths was skipped for it, and this commit is still the app's newest.
    if (newest && newest !== job.sha && (await deps.store.getRevision(job.app, newest))) {
      await finish(deps.store, record.id, 'superseded', {
        note: `superseded by ${newest.slice(0, 12)}, a newer head of ${job.branch}`,
      });
      return { kind: 'superseded', by: newest };
    }
  }

  await deps.store.updateBuild(record.id, {
    status: 'running',
    startedAt: new Date().toISOString(),
    attempts: attempt,
  });
  const log = new BuildLog(deps.store, record.id, deps.logLines);
  try {
    const image = await buildAndPush(deps, job, record.id, log);
    const kept = await deps.store.setRevisionImage(job.app, job.sha, image, record.id);
    log.line(`image ${kept.tag} pinned as ${kept.pinned}`);
    await log.flush();
    await finish(deps.store, record.id, 'succeeded', { image: kept });
    return { kind: 'built', image: kept };
  } catch (e) {
    log.line(`ERROR ${isGantryError(e) ? e.code : 'unexpected'}: ${errorMessage(e)}`);
    await log.flush();
    if (shouldRetry(e, attempt, maxAttempts)) {
      await deps.store.updateBuild(record.id, {
        status: 'queued',
        note: `attempt ${attempt} of ${maxAttempts} failed (${errorMessage(e)}); retrying`,
      });
    } else {
      await finish(deps.store, record.id, 'failed', {
        failure: {
          code: isGantryError(e) ? e.code : 'GANTRY_ERR_BUILD_FAILED',
          message: errorMessage(e),
          logTail: log.tail(),
        },
      });
    }
    throw e;
  }
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
