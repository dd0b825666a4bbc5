/**
 * A list-then-watch cache of one kind of object in the namespace, so `list()` and the waits of
 * `start`/`stop` read memory instead of calling the API server every tick. client-node's
 * `ListWatch` keeps the resourceVersion, resumes a dropped watch from it, and relists after a
 * 410 Gone; what it does not do is come back after any other error (it stops and reports): this
 * wrapper restarts it with a backoff, and says whether the cache can be trusted meanwhile.
 */
import { ListWatch, Watch, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { GantryError } from '../../errors.js';
import { messageOf } from './kube-client.js';

const RESTART_MIN_MS = 250;
const RESTART_MAX_MS = 10_000;
/** How long a reader waits for the first list before the API server counts as unreachable. */
const SYNC_TIMEOUT_MS = 30_000;
/** How long reads may be served from a cache whose watch is down before they fail instead. */
const STALE_AFTER_MS = 30_000;

/** A Watch that says when a watch request was accepted (HTTP 200, the stream is open). */
class TrackedWatch extends Watch {
  constructor(
    kc: KubeConfig,
    private readonly onOpen: () => void,
  ) {
    super(kc);
  }

  override async watch(
    path: string,
    queryParams: Record<string, string | number | boolean | undefined>,
    callback: (phase: string, apiObj: unknown, watchObj?: unknown) => void,
    done: (err: unknown) => void,
  ): Promise<AbortController> {
    let failed = false;
    const controller = await super.watch(path, queryParams, callback, (err: unknown) => {
      failed = true;
      done(err);
    });
    if (!failed) this.onOpen();
    return controller;
  }
}

export interface WatchCacheOptions<T extends KubernetesObject> {
  readonly kc: KubeConfig;
  /** `/api/v1/namespaces/<ns>/pods` and the like. */
  readonly path: string;
  readonly labelSelector: string;
  readonly list: () => Promise<{ items: T[]; metadata?: { resourceVersion?: string } }>;
  readonly what: string;
  readonly log?: Logger | undefined;
  /** How long reads may be served while the watch is down (default 30 s). */
  readonly staleAfterMs?: number | undefined;
}

type Waiter = () => void;

/** Told of every change the cache takes in, and of every full list (after which anything may differ). */
export interface CacheListener<T> {
  changed(object: T): void;
  relisted(): void;
}

export class WatchCache<T extends KubernetesObject> {
  private readonly lw: ListWatch<T>;
  private readonly waiters = new Set<Waiter>();
  private readonly listeners = new Set<CacheListener<T>>();
  private synced = false;
  private stopped = false;
  private restartMs = RESTART_MIN_MS;
  private restartTimer: NodeJS.Timeout | undefined;
  private lastError: string | undefined;
  /** Set when the watch failed, cleared when a watch request is accepted again. */
  private brokenSince: number | undefined;
  /** Counts (re)connects: tests and logs see the watch come back after a drop. */
  connects = 0;
  /** Counts full lists: the first one, and one after each 410 Gone. */
  lists = 0;

  constructor(private readonly opts: WatchCacheOptions<T>) {
    this.lw = new ListWatch<T>(
      opts.path,
      new TrackedWatch(opts.kc, () => {
        this.brokenSince = undefined;
      }),
      // Every list (the first one, and each after a 410) marks the cache trusted again.
      async () => {
        const list = await opts.list();
        this.lists++;
        this.synced = true;
        this.brokenSince = undefined;
        this.restartMs = RESTART_MIN_MS;
        this.lastError = undefined;
        queueMicrotask(() => {
          this.notify();
          for (const l of [...this.listeners]) l.relisted();
        });
        return list as never;
      },
      false,
      opts.labelSelector,
    );
    const changed = (object: T): void => {
      // Events arriving means the watch is healthy again: the next failure starts a fresh backoff.
      this.restartMs = RESTART_MIN_MS;
      this.notify();
      for (const l of [...this.listeners]) l.changed(object);
    };
    this.lw.on('add', changed);
    this.lw.on('update', changed);
    this.lw.on('delete', changed);
    this.lw.on('connect', () => {
      this.connects++;
    });
    this.lw.on('error', (err: unknown) => this.restart(err));
  }

  /** Starts listing and watching; resolves once the first list is in (or rejects). */
  async start(): Promise<void> {
    this.stopped = false;
    await this.lw.start().catch((e: unknown) => this.restart(e));
    await this.ready();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.restartTimer);
    void this.lw.stop();
    for (const w of [...this.waiters]) w();
  }

  /**
   * The cached objects; waits for the first list, and fails rather than answer from a cache whose
   * watch has been down for long (a rollout must not act on a stale picture of the cluster).
   */
  async items(): Promise<readonly T[]> {
    await this.ready();
    const staleAfter = this.opts.staleAfterMs ?? STALE_AFTER_MS;
    if (this.brokenSince !== undefined && Date.now() - this.brokenSince > staleAfter) {
      throw new GantryError(
        'GANTRY_ERR_KUBERNETES_UNAVAILABLE',
        `the watch of ${this.opts.what} has been down for ${Math.round((Date.now() - this.brokenSince) / 1000)}s${this.lastError ? `: ${this.lastError}` : ''}`,
      );
    }
    return this.lw.list();
  }

  /** The cached objects now, without waiting (empty before the first list). */
  snapshot(): readonly T[] {
    return this.lw.list();
  }

  /** Calls `listener` on every change from now on; returns a function that stops it. */
  subscribe(listener: CacheListener<T>): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  /** One cached object by name. */
  get(name: string, namespace: string): T | undefined {
    return this.lw.get(name, namespace);
  }

  /**
   * Resolves with `pick(objects)` once it is not undefined (checked now and after every change),
   * or undefined after `timeoutMs`.
   */
  async until<R>(
    pick: (items: readonly T[]) => R | undefined,
    timeoutMs: number,
  ): Promise<R | undefined> {
    await this.ready();
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = pick(this.lw.list());
      if (found !== undefined) return found;
      const left = deadline - Date.now();
      if (left <= 0 || this.stopped) return undefined;
      await new Promise<void>((resolve) => {
        const waiter: Waiter = () => {
          clearTimeout(timer);
          this.waiters.delete(waiter);
          resolve();
        };
        const timer = setTimeout(waiter, Math.min(left, 1000));
        this.waiters.add(waiter);
      });
    }
  }

  /** Waits for the first list; rejects when the API server stays unreachable. */
  private async ready(): Promise<void> {
    if (this.synced) return;
    const ok = await this.waitSynced(SYNC_TIMEOUT_MS);
    if (!ok) {
      throw new GantryError(
        'GANTRY_ERR_KUBERNETES_UNAVAILABLE',
        `cannot list ${this.opts.what} from the Kubernetes API server${this.lastError ? `: ${this.lastError}` : ''}`,
      );
    }
  }

  private async waitSynced(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!this.synced && !this.stopped && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
    }
    return this.synced;
  }

  private notify(): void {
    const ws = [...this.waiters];
    this.waiters.clear();
    for (const w of ws) w();
  }

  /** After an error other than 410 the ListWatch stops: start it again, with a backoff. */
  private restart(err: unknown): void {
    if (this.stopped) return;
    this.brokenSince ??= Date.now();
    this.lastError = messageOf(err);
    this.opts.log?.warn(
      { what: this.opts.what, err: this.lastError, retryMs: this.restartMs },
      'Kubernetes watch failed; restarting it',
    );
    clearTimeout(this.restartTimer);
    this.restartTimer = setTimeout(() => {
      if (this.stopped) return;
      void this.lw.start().catch((e: unknown) => this.restart(e));
    }, this.restartMs);
    this.restartTimer.unref();
    this.restartMs = Math.min(this.restartMs * 2, RESTART_MAX_MS);
  }
}
