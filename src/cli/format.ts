import type {
  EnvStatusView,
  EnvView,
  HistoryEntry,
  InstanceView,
  RolloutView,
  TimelineEvent,
  TriggerView,
} from './views.js';

/** Renders rows as an aligned plain-text table (what `kubectl get` users expect). */
export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) =>
    Math.max(h.length, ...rows.map((r) => [...(r[i] ?? '')].length)),
  );
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c + ' '.repeat(Math.max(0, (widths[i] ?? 0) - [...c].length)))
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}

/** "3m ago"-style age from an ISO time. */
export function age(iso: string | undefined, now = Date.now()): string {
  if (!iso) return '-';
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.round(s / 60)}m ago`;
  if (s < 86400) return `${Math.round(s / 3600)}h ago`;
  return `${Math.round(s / 86400)}d ago`;
}

export function short(sha: string | undefined | null): string {
  return sha ? sha.slice(0, 12) : '-';
}

/** 850ms, 12.3s, 4m05s, 2h10m. */
export function duration(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms) || ms < 0) return '-';
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const s = Math.round(ms / 1000);
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  const m = Math.round(s / 60);
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

/** Cuts to `max` characters with an ellipsis. */
export function clip(s: string, max: number): string {
  const chars = [...s];
  return chars.length <= max ? s : `${chars.slice(0, max - 1).join('')}…`;
}

/** Who or what started it: `push (alice)`, `poll`, `bob (rollback)`. */
export function triggerText(t: TriggerView | undefined): string {
  if (!t) return '-';
  switch (t.kind) {
    case 'webhook':
      return t.actor ? `push (${t.actor})` : 'push';
    case 'poll':
      return 'poll';
    case 'manual':
      return t.via ? `${t.actor} (${t.via})` : t.actor;
    default:
      return (t as { kind: string }).kind;
  }
}

/**
 * The KIND column: a scale or a restart rolls out the running revision as a deploy, and is told
 * apart by what asked for it.
 */
export function historyKind(e: Pick<RolloutView, 'kind' | 'trigger'>): string {
  const via = e.trigger?.kind === 'manual' ? e.trigger.via : undefined;
  return e.kind === 'deploy' && (via === 'scale' || via === 'restart') ? via : e.kind;
}

/** How long a rollout took (or has taken so far). */
export function rolloutDuration(r: RolloutView & { durationMs?: number | undefined }, now: number) {
  if (r.durationMs !== undefined) return r.durationMs;
  const end = r.finishedAt ? Date.parse(r.finishedAt) : now;
  return end - Date.parse(r.createdAt);
}

const HISTORY_HEADERS = [
  'WHEN',
  'ENV',
  'KIND',
  'FROM→TO',
  'RELEASE',
  'COMMIT',
  'PR',
  'BY',
  'DURATION',
  'OUTCOME',
  'RUNNING',
];

/** The history table: one line per rollout, newest first, as the API returned them. */
export function historyTable(entries: readonly HistoryEntry[], now = Date.now()): string {
  return table(
    HISTORY_HEADERS,
    entries.map((e) => {
      const pr = e.pr?.number ?? e.commit?.prNumber;
      const message = e.commit?.message.split('\n')[0] ?? '';
      return [
        age(e.createdAt, now),
        e.env,
        historyKind(e),
        `${e.from ? e.from.sha.slice(0, 7) : '∅'}→${e.to.sha.slice(0, 7)}`,
        // The release it moved to: a config change moves releases without moving commits.
        e.to.release === undefined ? '-' : `v${e.to.release}`,
        clip(message, 40) || '-',
        pr ? `#${pr}` : '-',
        triggerText(e.trigger),
        e.outcome ? duration(rolloutDuration(e, now)) : '-',
        e.outcome ?? e.phase,
        e.running ? 'yes' : '-',
      ];
    }),
  );
}

/** A lock or pin in a few words, for the environments table. */
export function standing(e: EnvView, now = Date.now()): string {
  const parts: string[] = [];
  if (e.lock) {
    const until = e.lock.until ? ` until ${e.lock.until}` : '';
    parts.push(`locked by ${e.lock.by} ${age(e.lock.at, now)}${until}: ${e.lock.reason}`);
  }
  if (e.pin) parts.push(`pinned to ${short(e.pin.sha)} by ${e.pin.by}: ${e.pin.reason}`);
  return parts.join('; ') || '-';
}

/** The environments table of `gantry status`. */
export function envTable(
  envs: readonly EnvView[],
  branches: Record<string, { branch: string }>,
  now = Date.now(),
): string {
  return table(
    ['ENV', 'BRANCH', 'CURRENT', 'SINCE', 'URL', 'STANDING'],
    envs.map((e) => [
      e.env,
      branches[e.env]?.branch ?? '-',
      short(e.current?.sha),
      age(e.current?.since, now),
      e.route?.url ?? '-',
      standing(e, now),
    ]),
  );
}

/** Recent rollouts, as in `gantry status`. */
export function rolloutTable(rollouts: readonly RolloutView[], now = Date.now()): string {
  return table(
    ['ROLLOUT', 'ENV', 'KIND', 'TO', 'BY', 'WHEN', 'DURATION', 'STATE'],
    rollouts.map((r) => [
      r.id,
      r.env,
      historyKind(r),
      short(r.to.sha),
      triggerText(r.trigger),
      age(r.createdAt, now),
      duration(rolloutDuration(r, now)),
      r.outcome ?? r.phase,
    ]),
  );
}

/** An instance's health in a word, with the reason while unhealthy. */
export function healthText(h: InstanceView['health']): string {
  if (!h) return '-';
  if (typeof h === 'string') return h;
  return h.status === 'unhealthy' && h.detail ? `unhealthy (${clip(h.detail, 60)})` : h.status;
}

/** Sync in words: `synced`, `out of sync: drift (…); newer-head (…)`, or unknown before a pass. */
export function syncText(s: EnvStatusView): string {
  switch (s.sync.status) {
    case 'synced':
      return 'synced';
    case 'out-of-sync': {
      const why = s.sync.reasons.map((r) => (r.detail ? `${r.reason} (${r.detail})` : r.reason));
      return why.length ? `out of sync: ${why.join('; ')}` : 'out of sync';
    }
    default:
      return 'unknown (not reconciled yet)';
  }
}

/**
 * Health in words, with each instance that is not healthy and why, e.g.
 * `degraded: 3/4 healthy; r-…-2 exited 137` (an instance the detail already names is not repeated).
 */
export function healthLine(s: EnvStatusView): string {
  const head = s.health.detail ? `${s.health.status}: ${s.health.detail}` : s.health.status;
  const problems = s.instances
    .filter((i) => i.verdict !== 'healthy' && !s.health.detail.includes(i.slot))
    .map((i) => `${i.slot} ${i.detail ?? i.verdict}`);
  return [head, ...problems].join('; ');
}

/**
 * One instance per row, as the reconciler judged it (with its process type, when labelled),
 * grouped by process type in the app's order, then by slot: the runtime lists them in its own
 * order (Kubernetes by pod name), which scatters a process type's rows.
 */
export function instanceStatusTable(s: EnvStatusView): string {
  const typed = s.instances.some((i) => i.process);
  const names = (s.processes ?? []).map((p) => p.name);
  const rank = (p: string | undefined): number => {
    const at = names.indexOf(p ?? 'web');
    return at < 0 ? names.length : at;
  };
  const rows = [...s.instances].sort(
    (a, b) => rank(a.process) - rank(b.process) || a.slot.localeCompare(b.slot),
  );
  return table(
    [
      ...(typed ? ['PROCESS'] : []),
      'SLOT',
      'REVISION',
      'HOST',
      'STATE',
      'VERDICT',
      'ROUTED',
      'DETAIL',
    ],
    rows.map((i) => [
      ...(typed ? [i.process ?? 'web'] : []),
      i.slot,
      short(i.revision),
      i.host,
      i.state,
      i.verdict,
      i.routed ? 'yes' : 'no',
      clip(i.detail ?? '', 60) || '-',
    ]),
  );
}

const indent = (text: string, by = '    ') =>
  text
    .split('\n')
    .map((l) => by + l)
    .join('\n');

/**
 * One environment's status for `gantry status`: sync with why, health with the failing instances,
 * orphaned (and how to prune), self-heal, the instances and the last lines of its timeline.
 */
export function envStatusBlock(
  app: string,
  e: EnvView,
  timeline: readonly TimelineEvent[],
  now = Date.now(),
): string {
  const s = e.status;
  if (!s) return `${e.env}\n  status: not reported by this controller`;
  const observed = s.observedAt ? `observed ${age(s.observedAt, now)}` : 'never observed';
  const lines = [
    `${e.env}  (self-heal ${s.selfHeal ? 'on' : 'off'}, ${observed})`,
    `  sync:      ${syncText(s)}`,
    `  health:    ${healthLine(s)}`,
  ];
  // Ready of wanted per process type: what `gantry scale` changes.
  if (s.processes?.length) {
    const counts = s.processes.map((p) => `${p.name} ${p.ready}/${p.desired}`).join(', ');
    lines.push(`  processes: ${counts}`);
  }
  if (s.orphaned) {
    lines.push(
      `  orphaned:  ${s.orphaned.why} (remove it with: gantry prune ${app} --env ${e.env})`,
    );
  }
  if (s.instances.length) lines.push('  instances:', indent(instanceStatusTable(s)));
  if (timeline.length) {
    lines.push('  timeline (newest first):');
    for (const t of timeline)
      lines.push(`    ${age(new Date(t.at).toISOString(), now)}  ${t.text}`);
  }
  return lines.join('\n');
}
