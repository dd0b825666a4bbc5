/**
 * Facts read from commit messages. Pure string work, shared by webhooks, the poller and history.
 */

// Each pattern is a convention a forge writes itself, so a match means "this commit landed a PR",
// not "this commit mentions a number". A bare "#12" (e.g. "fixes #12") is an issue reference.
const SUBJECT_PATTERNS: readonly RegExp[] = [
  // GitHub merge commit: "Merge pull request #12 from owner/branch"
  /^Merge pull request #(\d+) from \S/,
  // Gitea merge commit: "Merge pull request 'Title' (#12) from owner/branch into main"
  /^Merge pull request '.*' \(#(\d+)\) from \S/,
  // GitHub and Gitea squash merges: "Title (#12)". Anchored at the end and unambiguous, so a long
  // subject costs linear time (an unanchored `\S.*\(#…` would be quadratic on a hostile message).
  /\S[ \t]*\(#(\d+)\)$/,
];

// GitLab merge commit trailer, on a line of its own: "See merge request group/proj!12"; GitLab
// before 10.x wrote the project-less form "See merge request !12".
const GITLAB_TRAILER = /^See merge request (?:[\w.-]+(?:\/[\w.-]+)*)?!(\d+)$/;

/** The pull/merge request number a commit message says it landed, if the forge wrote one. */
export function prNumberFromMessage(message: string): number | undefined {
  const lines = message.split(/\r?\n/).map((line) => line.trim());
  const subject = lines[0] ?? '';
  for (const pattern of SUBJECT_PATTERNS) {
    const n = toPrNumber(pattern.exec(subject)?.[1]);
    if (n !== undefined) return n;
  }
  // The last trailer wins: a squashed history may quote earlier merge messages above it.
  for (const line of lines.slice(1).reverse()) {
    const n = toPrNumber(GITLAB_TRAILER.exec(line)?.[1]);
    if (n !== undefined) return n;
  }
  return undefined;
}

function toPrNumber(digits: string | undefined): number | undefined {
  // Nine digits is far beyond any real PR number and keeps the value a safe integer.
  if (digits === undefined || digits.length > 9) return undefined;
  const n = Number(digits);
  return n > 0 ? n : undefined;
}
