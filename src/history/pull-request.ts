/** The pull request a rollout's commit landed, as recorded on the rollout (history by PR). */
import { prNumberFromMessage } from '../source/commit-meta.js';
import type { CommitMeta, PullRequestRef } from '../store/records.js';
import { prTitleFromMessage } from './changes.js';

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
