/**
 * Synthetic rollout history for tests and bench/api-read: records shaped as the runner writes
 * them (plan from the real planner, a finished state with instances, health evidence and probes,
 * commit and PR), written through the real RolloutStore so every index is there.
 */
import { parseAppSpec } from '../../src/config/app-spec.js';
import { freshTally } from '../../src/rollout/health.js';
import {
  initialState,
  planRollout,
  type RolloutState,
  type TrackedInstance,
} from '../../src/rollout/index.js';
import type { CommitMeta, RolloutOutcome, RolloutRecord } from '../../src/store/records.js';
import type { RolloutStore } from '../../src/store/rollouts.js';
import type { Store } from '../../src/store/store.js';

export interface SeedOptions {
  app: string;
  envs: string[];
  /** How many rollout records in all. */
  count: number;
  /** Every n-th commit landed a PR (its message says so). */
  prEvery?: number;
  /** Time of the newest record (ms); records are one minute apart going back. */
  now?: number;
  /** Which environment's last succeeded rollout is current (all by default). */
  setCurrent?: boolean;
}

export interface SeededHistory {
  records: RolloutRecord[];
  /** Commit of the n-th pair of rollouts; rollouts 2k and 2k+1 ship commit k. */
  commits: CommitMeta[];
}

const OUTCOMES: RolloutOutcome[] = [
  'succeeded',
  'succeeded',
  'succeeded',
  'failed',
  'superseded',
  'succeeded',
  'aborted',
];

function hex40(n: number, salt: string): string {
  let s = '';
  let x = n * 2654435761 + salt.length * 97;
  while (s.length < 40) {
    x = (x * 1103515245 + 12345) % 2147483648;
    s += x.toString(16).padStart(8, '0');
  }
  return s.slice(0, 40);
}

/** Writes `count` rollout records (and their app, revisions and environment states). */
export async function seedHistory(
  store: Store,
  rollouts: RolloutStore,
  opts: SeedOptions,
): Promise<SeededHistory> {
  const now = opts.now ?? Date.now();
  const prEvery = opts.prEvery ?? 3;
  const spec = parseAppSpec(
    [
      `app: ${opts.app}`,
      'run: { port: 8080, replicas: 3 }',
      'health: { http: { path: /healthz }, interval: 2s }',
      'environments:',
      ...opts.envs.map((e) => `  ${e}: { branch: ${e === 'production' ? 'main' : e} }`),
    ].join('\n'),
  );
  await store.putApp({
    name: opts.app,
    repo: 'app',
    path: '.',
    branches: opts.envs.map((e) => (e === 'production' ? 'main' : e)),
    environments: Object.fromEntries(
      opts.envs.map((e) => [e, { branch: e === 'production' ? 'main' : e, target: 'local' }]),
    ),
    updatedAt: new Date(now).toISOString(),
  });

  const commits: CommitMeta[] = [];
  const records: RolloutRecord[] = [];
  const last = new Map<string, { sha: string; image: string }>();
  const current = new Map<string, RolloutRecord>();
  for (let i = 0; i < opts.count; i++) {
    const k = Math.floor(i / 2);
    if (!commits[k]) {
      const sha = hex40(k + 1, opts.app);
      const pr = k % prEvery === 0 ? k + 1 : undefined;
      const message = pr
        ? `Merge pull request #${pr} from acme/feature-${pr}\n\nFeature ${pr}: make the thing faster`
        : `Tidy module ${k}\n\nA longer body explaining why, as commit bodies do.`;
      const commit: CommitMeta = {
        sha,
        message,
        author: {
          name: `Dev ${k % 7}`,
          email: `dev${k % 7}@example.com`,
          timestamp: Math.floor((now - (opts.count - i) * 60_000) / 1000),
        },
        prNumber: pr,
      };
      commits[k] = commit;
      await store.addRevision({
        app: opts.app,
        sha,
        repo: 'app',
        branch: 'main',
        commit,
        firstSeenAt: new Date(now - (opts.count - i) * 60_000).toISOString(),
      });
    }
    const commit = commits[k]!;
    const env = opts.envs[i % opts.envs.length]!;
    const createdAt = now - (opts.count - 1 - i) * 60_000;
    const id = `r-${createdAt.toString(36)}-${(i + 1).toString(36)}`;
    const to = {
      sha: commit.sha,
      image: `127.0.0.1:5000/${opts.app}@sha256:${hex40(i, 'img')}${hex40(i, 'dig').slice(0, 24)}`,
    };
    const from = last.get(env) ?? null;
    const outcome = OUTCOMES[i % OUTCOMES.length]!;
    const plan = planRollout({
      rolloutId: id,
      env,
      spec,
      from,
      to,
      hosts: ['local'],
      drainMs: 1000,
    });
    const state = finishedState(initialState(plan), plan.replicas, to.sha, outcome, createdAt);
    const rec: RolloutRecord = {
      id,
      app: opts.app,
      env,
      kind: i % 11 === 10 ? 'rollback' : 'deploy',
      trigger:
        i % 5 === 0
          ? { kind: 'poll' }
          : {
              kind: 'webhook',
              provider: 'github',
              deliveryId: `d-${i}`,
              actor: commit.author.name,
            },
      from,
      to,
      createdAt: new Date(createdAt).toISOString(),
      finishedAt: new Date(createdAt + 42_000).toISOString(),
      outcome,
      reason:
        outcome === 'succeeded' ? `3 × ${to.sha.slice(0, 12)} serving` : `${outcome}: see evidence`,
      commit,
      ...(commit.prNumber
        ? {
            pr: {
              number: commit.prNumber,
              title: `Feature ${commit.prNumber}: make the thing faster`,
            },
          }
        : {}),
      plan,
      state,
    };
    await rollouts.put(rec);
    if (outcome === 'succeeded') {
      last.set(env, to);
      current.set(env, rec);
    }
    records.push(rec);
  }
  if (opts.setCurrent !== false) {
    for (const [env, rec] of current) {
      await rollouts.updateEnv(opts.app, env, {
        current: { ...rec.to, rolloutId: rec.id, since: rec.finishedAt! },
      });
    }
  }
  return { records, commits };
}

function finishedState(
  base: RolloutState,
  replicas: number,
  sha: string,
  outcome: RolloutOutcome,
  at: number,
): RolloutState {
  const instances: TrackedInstance[] = Array.from({ length: replicas }, (_, n) => ({
    slot: `${base.rolloutId}-${n}`,
    role: 'to',
    revision: sha,
    host: 'local',
    request: { image: 'img', at: at + n * 1000 },
    id: hex40(n, base.rolloutId).slice(0, 12),
    seenAt: at + n * 1000 + 300,
    runtime: 'running',
    exitCode: null,
    routed: true,
    everRouted: true,
    health: {
      ...freshTally(0, 'healthy'),
      passes: 2,
      lastProbeAt: at + n * 1000 + 4000,
      recent: probes(at + n * 1000),
    },
    retire: null,
  }));
  return {
    ...base,
    startedAt: at,
    lastProgressAt: at + 30_000,
    finished: { outcome, at: at + 42_000, restored: outcome !== 'succeeded', rollbackStall: null },
    nextSlot: replicas,
    instances,
    evidence: instances.map((i) => ({
      at: i.seenAt! + 4000,
      slot: i.slot,
      instanceId: i.id,
      role: 'to' as const,
      status: 'healthy' as const,
      detail: null,
      probes: probes(i.seenAt!),
    })),
  };
}

function probes(from: number) {
  return [0, 1, 2].map((n) => ({ at: from + 2000 * (n + 1), ok: true, detail: 'HTTP 200 in 3ms' }));
}
