/** The pull request a commit landed: its number, title and link, read from what the forge wrote. */
import { prNumberFromMessage } from '../source/commit-meta.js';
import type { CommitMeta, PullRequestRef } from '../store/records.js';

/**
 * The pull request a commit landed, or undefined. The number recorded at sync wins (a webhook may
 * have named it); otherwise it is read from the message. `urlOf` builds a link when the forge's
 * URL scheme is known; without one the link is left out.
 */
export function pullRequestOf(
  commit: Pick<CommitMeta, 'message' | 'prNumber'>,
  urlOf?: (n: number) => string | undefined,
): PullRequestRef | undefined {
  const number = commit.prNumber ?? prNumberFromMessage(commit.message);
  if (number === undefined) return undefined;
  const title = prTitleFromMessage(commit.message);
  const url = urlOf?.(number);
  return { number, ...(title ? { title } : {}), ...(url ? { url } : {}) };
}

// "Merge pull request #12 from owner/branch" puts the PR's title on the first body line.
const GITHUB_MERGE = /^Merge pull request #\d+ from \S/;
// "Merge pull request 'Title' (#12) from owner/branch into main" (Gitea).
const GITEA_MERGE = /^Merge pull request '(.*)' \(#\d+\) from \S/;
// "Title (#12)" (GitHub / Gitea squash merge).
const SQUASH = /^(.*\S)[ \t]*\(#\d+\)$/;
// GitLab: "Merge branch 'x' into 'main'" with the MR title on the first body line.
const GITLAB_MERGE = /^Merge branch '.*' into '.*'$/;

/** The PR title a commit message carries, in the forms forges write (only when it names a PR). */
export function prTitleFromMessage(message: string): string | undefined {
  if (prNumberFromMessage(message) === undefined) return undefined;
  const lines = message.split(/\r?\n/).map((l) => l.trim());
  const subject = lines[0] ?? '';
  const firstBodyLine = lines.slice(1).find((l) => l !== '');
  if (GITHUB_MERGE.test(subject) || GITLAB_MERGE.test(subject)) return firstBodyLine;
  const gitea = GITEA_MERGE.exec(subject)?.[1];
  if (gitea) return gitea;
  return SQUASH.exec(subject)?.[1] ?? subject;
}

/** A link to a PR on the forges whose URL scheme is known from the repo URL (GitHub, GitLab, Gitea). */
export function prUrlFor(repoUrl: string): (prNumber: number) => string | undefined {
  let base: URL;
  try {
    base = new URL(repoUrl.replace(/\.git$/, ''));
  } catch {
    return () => undefined;
  }
  if (base.protocol !== 'https:') return () => undefined;
  const root = `${base.origin}${base.pathname.replace(/\/+$/, '')}`;
  if (base.hostname === 'github.com') return (n) => `${root}/pull/${n}`;
  if (base.hostname === 'gitlab.com') return (n) => `${root}/-/merge_requests/${n}`;
  return () => undefined;
}
