import { setTimeout as sleep } from 'node:timers/promises';
import type { RolloutEventRecord } from '../store/records.js';
import { api, type ClientOptions } from './client.js';

export interface RolloutView {
  id: string;
  app: string;
  env: string;
  kind: string;
  to: { sha: string; image: string };
  from: { sha: string; image: string } | null;
  outcome?: string;
  reason?: string;
  phase: string;
  failureLogs?: { slot: string; lines: string[] };
  createdAt: string;
  finishedAt?: string;
}

/** Waits for the rollout of `sha` to `env` to appear, then prints its events until it ends. */
export async function followRollout(
  opts: ClientOptions,
  app: string,
  env: string,
  sha: string,
  how: { write: (line: string) => void; timeoutMs?: number; pollMs?: number },
): Promise<RolloutView> {
  const deadline = Date.now() + (how.timeoutMs ?? 300_000);
  let id: string | undefined;
  while (!id) {
    if (Date.now() > deadline)
      throw new Error(`no rollout of ${sha.slice(0, 12)} to ${env} appeared`);
    const res = await api<{ rollouts: RolloutView[] }>(
      opts,
      `/api/apps/${app}/rollouts?env=${env}`,
    );
    id = res.rollouts.find((r) => r.to.sha === sha)?.id;
    if (!id) await sleep(how.pollMs ?? 300);
  }
  let from = 0;
  let started: number | undefined;
  for (;;) {
    const res = await api<{ rollout: RolloutView; events: RolloutEventRecord[]; next: number }>(
      opts,
      `/api/rollouts/${id}?from=${from}`,
    );
    for (const e of res.events) {
      started ??= e.at;
      how.write(`+${((e.at - started) / 1000).toFixed(1).padStart(5)}s  ${e.text}`);
    }
    from = res.next;
    if (res.rollout.outcome) return res.rollout;
    if (Date.now() > deadline) throw new Error(`rollout ${id} did not finish in time`);
    await sleep(how.pollMs ?? 300);
  }
}
