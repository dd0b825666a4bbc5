/**
 * What the reporters tell a forge, before it is shaped for one forge's API. Pure. The states are
 * Gantry's; each forge module maps them onto its own (documented in docs/readme/reporting.md).
 */
import type { ForgeConfig } from '../../config/controller-config.js';

/** Where a rollout of one commit to one environment stands, as reported to a forge. */
export type ReportState =
  'in_progress' | 'frozen' | 'succeeded' | 'failed' | 'aborted' | 'superseded';

/** A commit status: one per commit and environment (`gantry/<env>`), updated as the rollout moves. */
export interface StatusReport {
  readonly sha: string;
  readonly env: string;
  readonly state: ReportState;
  readonly description: string;
  /** The rollout page. */
  readonly targetUrl: string;
  /** The branch, for forges that take it (GitLab). */
  readonly ref?: string | undefined;
}

/** GitHub's and Gitea's limit on a status description (GitHub documents 140 characters). */
export const DESCRIPTION_MAX = 140;

/** The status context / name Gantry reports under for an environment. */
export function statusContext(env: string): string {
  return `gantry/${env}`;
}

/** A description cut to the forge's limit, on one line. */
export function description(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length <= DESCRIPTION_MAX ? flat : `${flat.slice(0, DESCRIPTION_MAX - 1)}…`;
}

/** The forge's API base without a trailing slash. */
export function apiBase(forge: ForgeConfig): string {
  return forge.apiUrl.replace(/\/+$/, '');
}

/**
 * The project a repo is on the forge: the configured one, else the path of the clone URL
 * (`https://github.com/acme/app.git` → `acme/app`; GitLab keeps subgroups: `group/sub/app`).
 */
export function projectOf(forge: ForgeConfig, repoUrl: string): string {
  if (forge.project) return forge.project;
  let p: string;
  try {
    p = new URL(repoUrl).pathname;
  } catch {
    p = repoUrl;
  }
  return p
    .replace(/^\/+/, '')
    .replace(/\/+$/, '')
    .replace(/\.git$/, '');
}

/** `owner/repo` split for forges whose paths take them separately; both parts URL-encoded. */
export function ownerRepo(project: string): string {
  const parts = project.split('/').filter(Boolean);
  const repo = parts.pop() ?? '';
  return `${encodeURIComponent(parts.join('/'))}/${encodeURIComponent(repo)}`;
}
