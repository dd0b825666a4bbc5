/**
 * Where a process spent its CPU: a V8 CPU profile (`.cpuprofile`, as bench/lib/profile-hook.mjs
 * writes it) summed by function (self time) and by package or Gantry source folder.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Who a script belongs to: its npm package, a Gantry source folder, or Node itself. */
function owner(url: string): string {
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1]!;
  const src = /\/src\/(.+)\/[^/]+$/.exec(url);
  if (src) return `src/${src[1]!}`;
  if (url === '') return '(vm)';
  return url.startsWith('node:') ? 'node' : url;
}

export interface ProfileSummary {
  /** Sampled ms in the window (about the CPU time the process used in it). */
  totalMs: number;
  byFunction: [string, number][];
  byOwner: [string, number][];
}

/** Self time (ms) by function and by owner. */
export function summarize(profile: CpuProfile): ProfileSummary {
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const byFunction = new Map<string, number>();
  const byOwner = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i] ?? 0;
    const f = nodes.get(id)?.callFrame;
    // The idle loop is not CPU: the process was waiting.
    if (!f || f.functionName === '(idle)') return;
    const ms = dt / 1000;
    total += ms;
    const fn = `${f.functionName || '(anonymous)'} ${path.basename(f.url)}:${f.lineNumber + 1}`;
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + ms);
    const o = owner(f.url);
    byOwner.set(o, (byOwner.get(o) ?? 0) + ms);
  });
  const top = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1]);
  return { totalMs: total, byFunction: top(byFunction), byOwner: top(byOwner) };
}

/** The profile in `file`, summarized. */
export async function summarizeFile(file: string): Promise<ProfileSummary> {
  return summarize(JSON.parse(await readFile(file, 'utf8')) as CpuProfile);
}
