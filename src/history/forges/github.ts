/**
 * GitHub: commit statuses (`POST /repos/{owner}/{repo}/statuses/{sha}`) and Deployments with
 * deployment statuses, so a PR's timeline says "deployed to production" with a link to the
 * rollout. Builders only: they return the request, `send` (../outgoing.ts) makes it.
 */
import type { ForgeConfig } from '../../config/controller-config.js';
import type { OutgoingRequest } from '../outgoing.js';
import { commitStatusRequest, commitStatusState } from './commit-status.js';
import { apiBase, description, ownerRepo, type ReportState, type StatusReport } from './report.js';
import { forgePost } from './request.js';

/** States of `POST /repos/{owner}/{repo}/statuses/{sha}`. */
export type GithubStatusState = 'pending' | 'success' | 'failure' | 'error';
/** States of `POST /repos/{owner}/{repo}/deployments/{id}/statuses`. */
export type GithubDeploymentState =
  'queued' | 'in_progress' | 'success' | 'failure' | 'error' | 'inactive';

/**
 * GitHub's commit statuses have no neutral state: a superseded rollout (never deployed, a newer
 * commit went out instead) is `error` with a description saying so, which is what GitHub
 * documents `error` for: the check could not complete.
 */
export function githubStatusState(s: ReportState): GithubStatusState {
  return commitStatusState(s, 'error');
}

/** A superseded deployment never became live: `inactive`, like a replaced one. */
export function githubDeploymentState(s: ReportState): GithubDeploymentState {
  switch (s) {
    case 'in_progress':
      return 'in_progress';
    case 'frozen':
      return 'queued';
    case 'succeeded':
      return 'success';
    case 'failed':
    case 'aborted':
      return 'failure';
    case 'superseded':
      return 'inactive';
  }
}

function headers(forge: ForgeConfig): Record<string, string> {
  return {
    Accept: 'application/vnd.github+json',
    Authorization: `Bearer ${forge.token}`,
    'X-GitHub-Api-Version': '2022-11-28',
    'User-Agent': 'gantry',
  };
}

/** `{api}/repos/{owner}/{repo}`, where every call below goes. */
function repoApi(forge: ForgeConfig, project: string): string {
  return `${apiBase(forge)}/repos/${ownerRepo(project)}`;
}

/** `POST /repos/{owner}/{repo}/statuses/{sha}` with context `gantry/<env>`. */
export function githubStatus(
  forge: ForgeConfig,
  project: string,
  r: StatusReport,
): OutgoingRequest {
  return commitStatusRequest(
    repoApi(forge, project),
    headers(forge),
    githubStatusState(r.state),
    r,
  );
}

/** `POST /repos/{owner}/{repo}/deployments` for one rollout; the answer (201) carries its `id`. */
export function githubCreateDeployment(
  forge: ForgeConfig,
  project: string,
  d: { sha: string; env: string; description: string },
): OutgoingRequest {
  return forgePost(`${repoApi(forge, project)}/deployments`, headers(forge), {
    ref: d.sha,
    environment: d.env,
    description: description(d.description),
    // Gantry deploys exactly this commit, whatever the branch's state: no merge, no checks.
    auto_merge: false,
    required_contexts: [],
    transient_environment: false,
    production_environment: d.env === 'production',
  });
}

/** `POST /repos/{owner}/{repo}/deployments/{id}/statuses`. */
export function githubDeploymentStatus(
  forge: ForgeConfig,
  project: string,
  deploymentId: number,
  s: {
    state: ReportState;
    logUrl: string;
    description: string;
    environmentUrl?: string | undefined;
  },
): OutgoingRequest {
  const url = `${repoApi(forge, project)}/deployments/${deploymentId}/statuses`;
  return forgePost(url, headers(forge), {
    state: githubDeploymentState(s.state),
    log_url: s.logUrl,
    description: description(s.description),
    ...(s.environmentUrl ? { environment_url: s.environmentUrl } : {}),
    // A success marks the environment's earlier deployments inactive: one live per environment.
    auto_inactive: true,
  });
}

/** The deployment id in the answer to `githubCreateDeployment`, or undefined. */
export function githubDeploymentId(body: unknown): number | undefined {
  const id = (body as { id?: unknown } | null)?.id;
  return typeof id === 'number' && Number.isInteger(id) ? id : undefined;
}
