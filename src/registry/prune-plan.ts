/**
 * Which of an app's images the registry may let go (pure). An image stays while any environment
 * can still need it: what it runs now, what a rollback pinned it to, what a rollout that has not
 * ended moves from or to, and the images of its newest `keepPerEnvironment` succeeded rollouts
 * (the rollback window). Images younger than the grace period stay too: a build that just pushed
 * may not have a rollout yet. Only tags Gantry writes (12 hex digits of the commit) are touched.
 */

export interface PruneWindow {
  /** Succeeded rollouts per environment whose images stay (`gantry rollback` targets). */
  readonly keepPerEnvironment: number;
  /** Images built more recently than this (ms) stay whatever the window says. */
  readonly graceMs: number;
}

/** What one environment says about the images it may still need; images as `repo@sha256:…`. */
export interface EnvImages {
  readonly current?: string | undefined;
  /** Images of the rollouts that took the environment to its pinned commit. */
  readonly pinned?: readonly string[] | undefined;
  /** Newest first. */
  readonly rollouts: readonly {
    readonly to: string;
    readonly from?: string | undefined;
    readonly outcome?: string | undefined;
  }[];
}

/** A tag in the registry: its manifest digest, and when Gantry built it (undefined: unknown). */
export interface TagState {
  readonly tag: string;
  readonly digest: string;
  readonly builtAt?: number | undefined;
}

export interface PrunePlan {
  /** Manifests to delete, each with every tag that names it. */
  readonly delete: readonly { readonly digest: string; readonly tags: readonly string[] }[];
  readonly keep: readonly { readonly digest: string; readonly tags: readonly string[] }[];
}

/** `sha256:…` of `repo@sha256:…`, or undefined for a reference by tag. */
export function digestOf(image: string): string | undefined {
  const at = image.lastIndexOf('@');
  return at < 0 ? undefined : image.slice(at + 1);
}

/** Whether `tag` is one Gantry writes: the commit's first 12 hex digits (image-naming.ts). */
export function isGantryTag(tag: string): boolean {
  return /^[0-9a-f]{12}$/.test(tag);
}

/** The digests the environments can still need (see the module comment). */
export function keptDigests(envs: readonly EnvImages[], keepPerEnvironment: number): Set<string> {
  const keep = new Set<string>();
  const add = (image: string | undefined) => {
    const digest = image === undefined ? undefined : digestOf(image);
    if (digest !== undefined) keep.add(digest);
  };
  for (const env of envs) {
    add(env.current);
    for (const image of env.pinned ?? []) add(image);
    const windowed = new Set<string>();
    for (const r of env.rollouts) {
      if (r.outcome === undefined) {
        // Still moving: both ends may serve when it is done (a failure rolls back to `from`).
        add(r.to);
        add(r.from);
      } else if (r.outcome === 'succeeded' && windowed.size < keepPerEnvironment) {
        windowed.add(r.to);
      }
    }
    for (const image of windowed) add(image);
  }
  return keep;
}

/**
 * The plan for one repository. A digest goes only when no kept image names it, every tag on it
 * is Gantry's, and none was built within the grace period (an unknown build time is old: the
 * revision's record has aged out of the history).
 */
export function planPrune(
  tags: readonly TagState[],
  kept: ReadonlySet<string>,
  now: number,
  graceMs: number,
): PrunePlan {
  const byDigest = new Map<string, TagState[]>();
  for (const t of tags) byDigest.set(t.digest, [...(byDigest.get(t.digest) ?? []), t]);
  const plan: { delete: PrunePlan['delete'][number][]; keep: PrunePlan['keep'][number][] } = {
    delete: [],
    keep: [],
  };
  for (const [digest, on] of [...byDigest].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const names = on.map((t) => t.tag).sort();
    const young = on.some((t) => t.builtAt !== undefined && now - t.builtAt < graceMs);
    const foreign = on.some((t) => !isGantryTag(t.tag));
    if (kept.has(digest) || young || foreign) plan.keep.push({ digest, tags: names });
    else plan.delete.push({ digest, tags: names });
  }
  return plan;
}
