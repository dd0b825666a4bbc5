/** Which of an app's images on a host may go: a pure choice, so the rules are tested as data. */
import { LABEL } from './labels.js';

/** The fields of `GET /images/json` entries the choice reads. */
export interface ImageEntry {
  readonly Id: string;
  readonly RepoTags?: readonly string[] | null | undefined;
  readonly RepoDigests?: readonly string[] | null | undefined;
  readonly Labels?: Readonly<Record<string, string>> | null | undefined;
}

const DIGEST = /@(sha256:[0-9a-f]{64})$/;

/** `repo@sha256:…` → `sha256:…`; undefined for a tag reference. */
export function digestOf(ref: string): string | undefined {
  return DIGEST.exec(ref)?.[1];
}

function realRefs(refs: readonly string[] | null | undefined): string[] {
  // The engine lists `<none>:<none>` and `<none>@<none>` for dangling images.
  return (refs ?? []).filter((r) => !r.startsWith('<none>'));
}

/**
 * The references to remove, tags before digests (untag first, then the last reference deletes the
 * image). Only images labelled for `app` are considered. Kept: images any `keep` ref names (by
 * tag, by digest in any repository spelling, or by id) and images a container uses (`inUse` ids);
 * every reference of a kept image stays. An app image with no reference left is named by its id.
 */
export function imagesToPrune(
  images: readonly ImageEntry[],
  app: string,
  keep: readonly string[],
  inUse: ReadonlySet<string> = new Set(),
): string[] {
  const keepRefs = new Set(keep);
  const keepDigests = new Set(keep.map(digestOf).filter((d): d is string => d !== undefined));
  const tags: string[] = [];
  const digests: string[] = [];
  for (const image of images) {
    if (image.Labels?.[LABEL.app] !== app) continue;
    if (inUse.has(image.Id) || keepRefs.has(image.Id)) continue;
    const repoTags = realRefs(image.RepoTags);
    const repoDigests = realRefs(image.RepoDigests);
    const kept =
      repoTags.some((t) => keepRefs.has(t)) ||
      repoDigests.some((d) => keepRefs.has(d) || keepDigests.has(digestOf(d) ?? ''));
    if (kept) continue;
    if (repoTags.length === 0 && repoDigests.length === 0) digests.push(image.Id);
    tags.push(...repoTags);
    digests.push(...repoDigests);
  }
  return [...tags.sort(), ...digests.sort()];
}
