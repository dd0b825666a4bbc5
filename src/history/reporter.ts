/**
 * The history reporters: one consumer of the event stream (src/events/bus.ts) in each controller,
 * all in one Redis consumer group, so every event is handled by one process (XREADGROUP), marked
 * done once handled (XACK), and taken over by another process when its consumer died before that
 * (XAUTOCLAIM of entries pending longer than `claimIdleMs`): at least once, never by two at once.
 *
 * For a rollout's `created`, `waiting-lock` and `outcome` events it posts commit statuses and a
 * GitHub Deployment, adds a line to the deployed commit's git note and sends notifications, as
 * report-plan.ts decides; for the reconciler's `env` events (self-heal, drift, orphaned, pruned)
 * it sends notifications (env-notice.ts). All of it runs beside the rollout, never in its way:
 * each request has a timeout and a few retries, and any failure is logged and dropped.
 */
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import os from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { NotificationConfig } from '../config/controller-config.js';
import { currentOf, type Current } from '../config/live-config.js';
import { errorMessage } from '../errors.js';
import type { StoredEvent } from '../events/bus.js';
import { splitUrlCredentials } from '../source/remote-url.js';
import type { RepoRegistry, TrackedRepo } from '../source/repos.js';
import type { Keys } from '../store/keys.js';
import type { RolloutRecord } from '../store/records.js';
import type { RolloutStore } from '../store/rollouts.js';
import type { Store } from '../store/store.js';
import {
  githubCreateDeployment,
  githubDeploymentId,
  githubDeploymentStatus,
  projectOf,
  statusRequest,
  type ReportState,
} from './forges/index.js';
import { envNoticeOf } from './env-notice.js';
import { noteLine } from './note-text.js';
import { GitNotes } from './notes.js';
import { notificationRequest, wants, type Notice } from './notify.js';
import { send, type SendOptions } from './outgoing.js';
import {
  asOfEvent,
  noticeOf,
  planReport,
  REPORTED_KINDS,
  rolloutLink,
  type ReportPlan,
} from './report-plan.js';

const DEPLOYMENT_TTL_S = 30 * 24 * 3600;
const BATCH = 20;
const MAX_IN_FLIGHT = 100;

export interface ReporterOptions {
  redis: Redis;
  keys: Keys;
  store: Store;
  rollouts: RolloutStore;
  repos: RepoRegistry;
  /** Read at each event, so receivers added or removed by a config reload take effect at once. */
  notifications: Current<readonly NotificationConfig[]>;
  /** Base of links to rollout pages (`<publicUrl>/#/rollouts/<id>`). */
  publicUrl: string;
  log: Logger;
  /** This process's name in the group (default: host, pid and a random part). */
  consumer?: string;
  /** Take over entries another consumer left pending this long (default 60 s). */
  claimIdleMs?: number;
  /** How long one blocking read waits (default 2 s; also how soon `stop` is noticed). */
  blockMs?: number;
  /** Timeouts and retries of forge and notification requests. */
  http?: SendOptions;
  /** Write git notes (default true). */
  notes?: boolean;
}

/** A running reporter; `stop` leaves unfinished entries pending for another consumer. */
export interface Reporter {
  readonly consumer: string;
  stop(): Promise<void>;
}

/** Creates the consumer group (once) and starts consuming in the background. */
export async function startReporter(opts: ReporterOptions): Promise<Reporter> {
  const r = new StreamReporter(opts);
  await r.ensureGroup();
  r.start();
  return r;
}

class StreamReporter implements Reporter {
  readonly consumer: string;
  private readonly group: string;
  private readonly key: string;
  private readonly conn: Redis;
  private readonly abort = new AbortController();
  private readonly notes = new GitNotes();
  private loop: Promise<void> | undefined;
  private nextClaimAt = 0;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(private readonly o: ReporterOptions) {
    this.consumer =
      o.consumer ?? `${os.hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
    this.group = o.keys.reportersGroup();
    this.key = o.keys.events();
    // Blocking reads tie up a connection: this one is the reporter's own.
    this.conn = o.redis.duplicate();
    this.conn.on('error', () => undefined); // reconnects on its own; failures surface on calls
  }

  async ensureGroup(): Promise<void> {
    // The controller's connection connects lazily and queues nothing while offline, and ours
    // inherits that: connect it before the first command.
    if (this.conn.status === 'wait') await this.conn.connect();
    else if (this.conn.status !== 'ready') await once(this.conn, 'ready');
    try {
      // `$`: a new group starts with what happens from now on, not the stream's whole past.
      await this.o.redis.xgroup('CREATE', this.key, this.group, '$', 'MKSTREAM');
    } catch (e) {
      if (!errorMessage(e).includes('BUSYGROUP')) throw e;
    }
  }

  start(): void {
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.abort.abort();
    this.conn.disconnect();
    // Work in hand ends at its next timeout; what is left stays pending and is claimed later.
    await Promise.race([
      Promise.all([this.loop, ...this.inFlight]),
      sleep(5000, undefined, { ref: false }),
    ]);
  }

  private get stopped(): boolean {
    return this.abort.signal.aborted;
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (!this.stopped) {
      try {
        if (Date.now() >= this.nextClaimAt) {
          this.nextClaimAt = Date.now() + (this.o.claimIdleMs ?? 60_000) / 2;
          await this.handleAll(await this.claimStale());
        }
        await this.handleAll(await this.readNew());
        if (failures > 0) this.o.log.info('history reporter: reading the event stream again');
        failures = 0;
      } catch (e) {
        if (this.stopped) return;
        // Said once per outage, then quietly retried with backoff (1 s doubling to 30 s).
        const level = failures === 0 ? 'warn' : 'debug';
        this.o.log[level](
          { err: errorMessage(e) },
          'history reporter: reading the event stream failed',
        );
        const wait = Math.min(1000 * 2 ** failures, 30_000);
        failures++;
        await sleep(wait, undefined, { signal: this.abort.signal }).catch(() => undefined);
      }
    }
  }

  private async readNew(): Promise<StoredEvent[]> {
    const res = (await this.conn.xreadgroup(
      'GROUP',
      this.group,
      this.consumer,
      'COUNT',
      BATCH,
      'BLOCK',
      this.o.blockMs ?? 2000,
      'STREAMS',
      this.key,
      '>',
    )) as [string, [string, string[]][]][] | null;
    return parseEntries(res?.[0]?.[1] ?? []);
  }

  /** Entries another consumer read and never acknowledged (it died, or hangs): ours now. */
  private async claimStale(): Promise<StoredEvent[]> {
    const res = (await this.conn.call(
      'XAUTOCLAIM',
      this.key,
      this.group,
      this.consumer,
      String(this.o.claimIdleMs ?? 60_000),
      '0-0',
      'COUNT',
      String(BATCH * 5),
    )) as [string, [string, string[] | null][]];
    return parseEntries(res[1].filter((e): e is [string, string[]] => e[1] !== null));
  }

  // In stream order: a rollout's `created` is reported before its `outcome`.
  private async handleAll(events: StoredEvent[]): Promise<void> {
    for (const e of events) {
      if (this.stopped) return;
      try {
        await this.handle(e);
      } catch (err) {
        // Left unacknowledged: claimed and tried again once it has been pending for a while.
        if (this.stopped) return;
        this.o.log.warn({ event: e.id, err: errorMessage(err) }, 'history reporter: event failed');
        continue;
      }
      await this.o.redis.xack(this.key, this.group, e.id);
    }
  }

  private async handle(e: StoredEvent): Promise<void> {
    if (e.type === 'env') {
      const notice = envNoticeOf(e, this.o.publicUrl);
      // The same for a redelivery of the same event, so receivers can drop duplicates.
      if (notice) {
        await this.notifyAll(notice, `${e.app}/${e.env}:${e.kind}:${e.id}`, {
          app: e.app,
          env: e.env,
        });
      }
      return;
    }
    if (e.type !== 'rollout' || !(REPORTED_KINDS as readonly string[]).includes(e.kind)) return;
    const stored = await this.o.rollouts.get(e.rolloutId);
    if (!stored) return;
    // How it ended, as this event says (its data), for the statuses, the note and the notices.
    const rec = asOfEvent(stored, e.data);
    const env = await this.o.rollouts.env(rec.app, rec.env);
    const statusKey = this.o.keys.forgeStatusPosted(rec.id);
    const plan = planReport(e.kind, rec, {
      lockReason: env.lock?.reason,
      eventText: e.text,
      eventData: e.data,
      statusPosted: (await this.o.redis.exists(statusKey)) === 1,
    });
    if (!plan) return;
    if (!rec.commit) {
      const revision = await this.o.store.getRevision(rec.app, rec.to.sha);
      if (revision) rec.commit = revision.commit;
    }
    const repo = await this.repoOf(rec);
    const tasks: [string, () => Promise<void>][] = [];
    if (repo?.config.forge && (plan.status || plan.deployment)) {
      tasks.push(['forge', () => this.reportToForge(rec, plan, repo, env.route?.url)]);
    }
    if (plan.note && repo && this.o.notes !== false) {
      tasks.push(['git note', () => this.writeNote(rec, repo)]);
    }
    const event = plan.notify;
    if (event) {
      const notice = noticeOf(rec, event, this.o.publicUrl, new Date());
      // The same for a redelivery of the same event, so receivers can drop duplicates.
      await this.notifyAll(notice, `${rec.id}:${event}:${e.id}`, {
        rollout: rec.id,
        app: rec.app,
        env: rec.env,
      });
    }
    // Independent of each other: a slow forge does not hold up the note, nor the other way round.
    const results = await Promise.allSettled(tasks.map(([, run]) => run()));
    results.forEach((res, i) => {
      if (res.status === 'fulfilled') return;
      this.o.log.warn(
        { rollout: rec.id, app: rec.app, env: rec.env, err: errorMessage(res.reason) },
        `history reporter: ${tasks[i]?.[0] ?? 'task'} failed (the rollout is not affected)`,
      );
    });
  }

  private async repoOf(rec: RolloutRecord): Promise<TrackedRepo | undefined> {
    const app = await this.o.store.getApp(rec.app);
    if (!app) return undefined;
    try {
      return this.o.repos.get(app.repo);
    } catch {
      return undefined; // the repo left the configuration since
    }
  }

  private async reportToForge(
    rec: RolloutRecord,
    plan: ReportPlan,
    repo: TrackedRepo,
    environmentUrl: string | undefined,
  ): Promise<void> {
    const forge = repo.config.forge!;
    const project = projectOf(forge, repo.config.url);
    const link = rolloutLink(this.o.publicUrl, rec.id);
    const http = { ...this.o.http, signal: this.abort.signal };
    if (plan.status) {
      const app = await this.o.store.getApp(rec.app);
      await send(
        statusRequest(forge, project, {
          sha: rec.to.sha,
          env: rec.env,
          state: plan.status.state,
          description: plan.status.description,
          targetUrl: link,
          ref: app?.environments[rec.env]?.branch,
        }),
        http,
      );
      await this.o.redis.set(this.o.keys.forgeStatusPosted(rec.id), '1', 'EX', DEPLOYMENT_TTL_S);
    }
    if (forge.kind !== 'github' || !plan.deployment || !plan.status) return;
    const state: ReportState = plan.status.state;
    const key = this.o.keys.forgeDeployment(rec.id);
    let id = Number((await this.o.redis.get(key)) ?? NaN);
    const create =
      plan.deployment === 'start' || (plan.deployment === 'finish' && state === 'succeeded');
    if (!Number.isInteger(id) && create) {
      const res = await send(
        githubCreateDeployment(forge, project, {
          sha: rec.to.sha,
          env: rec.env,
          description: `gantry ${rec.kind} ${rec.id}`,
        }),
        http,
      );
      id = githubDeploymentId(res.body) ?? NaN;
      if (Number.isInteger(id)) await this.o.redis.set(key, String(id), 'EX', DEPLOYMENT_TTL_S);
    }
    if (!Number.isInteger(id)) return;
    await send(
      githubDeploymentStatus(forge, project, id, {
        state,
        logUrl: link,
        description: plan.status.description,
        environmentUrl: state === 'succeeded' ? environmentUrl : undefined,
      }),
      http,
    );
  }

  private async writeNote(rec: RolloutRecord, repo: TrackedRepo): Promise<void> {
    const { url, credentials } = splitUrlCredentials(repo.config.url, repo.config.credentials);
    await this.notes.add({ dir: repo.cache.dir, url, credentials }, [
      { sha: rec.to.sha, line: noteLine(rec, new Date()) },
    ]);
  }

  /**
   * Sends `notice` to every receiver that wants it. Not awaited: a receiver that hangs must not
   * hold up the PR statuses and notes of every rollout after this one. Bounded: past
   * MAX_IN_FLIGHT, wait for room.
   */
  private async notifyAll(
    notice: Notice,
    deliveryId: string,
    about: { rollout?: string | undefined; app: string; env: string },
  ): Promise<void> {
    for (const n of currentOf(this.o.notifications)) {
      if (!wants(n, notice)) continue;
      while (this.inFlight.size >= MAX_IN_FLIGHT) await Promise.race(this.inFlight);
      const sent: Promise<void> = this.notify(n, notice, deliveryId)
        .catch((err: unknown) => {
          this.o.log.warn(
            { rollout: about.rollout, app: about.app, env: about.env, err: errorMessage(err) },
            `history reporter: notification ${n.name} failed (${about.rollout ? 'the rollout' : 'the environment'} is not affected)`,
          );
        })
        .finally(() => this.inFlight.delete(sent));
      this.inFlight.add(sent);
    }
  }

  private async notify(n: NotificationConfig, notice: Notice, deliveryId: string): Promise<void> {
    const req = notificationRequest(n, notice, {
      nowSeconds: Math.floor(Date.now() / 1000),
      deliveryId,
    });
    await send(req, { ...this.o.http, signal: this.abort.signal });
  }
}

function parseEntries(entries: [string, string[]][]): StoredEvent[] {
  const out: StoredEvent[] = [];
  for (const [id, fields] of entries) {
    const i = fields.indexOf('e');
    try {
      out.push({ ...(JSON.parse(fields[i + 1] ?? '') as StoredEvent), id });
    } catch {
      out.push({ id, type: 'env', at: 0, app: '', env: '', kind: 'unreadable', text: '' });
    }
  }
  return out;
}
