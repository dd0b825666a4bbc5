/**
 * Gitea (and Forgejo): `POST /api/v1/repos/{owner}/{repo}/statuses/{sha}` with
 * `Authorization: token <t>` and a CreateStatusOption body, GitHub's shape. Builder only.
 */
import type { ForgeConfig } from '../../config/controller-config.js';
import type { OutgoingRequest } from '../outgoing.js';
import { commitStatusRequest, commitStatusState } from './commit-status.js';
import { apiBase, ownerRepo, type ReportState, type StatusReport } from './report.js';

/** Gitea's CommitStatusState values. */
export type GiteaStatusState = 'pending' | 'success' | 'error' | 'failure' | 'warning';

/** Gitea has `warning`: what a superseded rollout (nothing broke, nothing deployed) is. */
export function giteaStatusState(s: ReportState): GiteaStatusState {
  return commitStatusState(s, 'warning');
}

/** The status request for one commit and environment (`context: gantry/<env>`). */
export function giteaStatus(forge: ForgeConfig, project: string, r: StatusReport): OutgoingRequest {
  return commitStatusRequest(
    `${apiBase(forge)}/api/v1/repos/${ownerRepo(project)}`,
    { Authorization: `token ${forge.token}` },
    giteaStatusState(r.state),
    r,
  );
}
