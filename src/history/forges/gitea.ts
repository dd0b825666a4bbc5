/**
 * Gitea (and Forgejo): `POST /api/v1/repos/{owner}/{repo}/statuses/{sha}` with
 * `Authorization: token <t>` and a CreateStatusOption body. Builder only.
 */
import type { ForgeConfig } from '../../config/controller-config.js';
import type { OutgoingRequest } from '../outgoing.js';
import {
  apiBase,
  description,
  ownerRepo,
  statusContext,
  type ReportState,
  type StatusReport,
} from './report.js';

/** Gitea's CommitStatusState values. */
export type GiteaStatusState = 'pending' | 'success' | 'error' | 'failure' | 'warning';

/** Gitea has `warning`: what a superseded rollout (nothing broke, nothing deployed) is. */
export function giteaStatusState(s: ReportState): GiteaStatusState {
  switch (s) {
    case 'in_progress':
    case 'frozen':
      return 'pending';
    case 'succeeded':
      return 'success';
    case 'failed':
    case 'aborted':
      return 'failure';
    case 'superseded':
      return 'warning';
  }
}

/** The status request for one commit and environment (`context: gantry/<env>`). */
export function giteaStatus(forge: ForgeConfig, project: string, r: StatusReport): OutgoingRequest {
  return {
    method: 'POST',
    url: `${apiBase(forge)}/api/v1/repos/${ownerRepo(project)}/statuses/${r.sha}`,
    headers: { Authorization: `token ${forge.token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({
      state: giteaStatusState(r.state),
      target_url: r.targetUrl,
      description: description(r.description),
      context: statusContext(r.env),
    }),
  };
}
