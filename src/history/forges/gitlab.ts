/**
 * GitLab: `POST /api/v4/projects/{id}/statuses/{sha}` with a `PRIVATE-TOKEN`. The project is its
 * numeric id or its URL-encoded full path. Builder only.
 */
import type { ForgeConfig } from '../../config/controller-config.js';
import type { OutgoingRequest } from '../outgoing.js';
import {
  apiBase,
  description,
  statusContext,
  type ReportState,
  type StatusReport,
} from './report.js';
import { forgePost } from './request.js';

/** States GitLab accepts for an external commit status. */
export type GitlabStatusState = 'pending' | 'running' | 'success' | 'failed' | 'canceled';

/** GitLab has `canceled`: what an aborted or superseded rollout is. */
export function gitlabStatusState(s: ReportState): GitlabStatusState {
  switch (s) {
    case 'frozen':
      return 'pending';
    case 'in_progress':
      return 'running';
    case 'succeeded':
      return 'success';
    case 'failed':
      return 'failed';
    case 'aborted':
    case 'superseded':
      return 'canceled';
  }
}

/** The status request for one commit and environment (`name: gantry/<env>`). */
export function gitlabStatus(
  forge: ForgeConfig,
  project: string,
  r: StatusReport,
): OutgoingRequest {
  const url = `${apiBase(forge)}/api/v4/projects/${encodeURIComponent(project)}/statuses/${r.sha}`;
  return forgePost(
    url,
    { 'PRIVATE-TOKEN': forge.token },
    {
      state: gitlabStatusState(r.state),
      name: statusContext(r.env),
      target_url: r.targetUrl,
      description: description(r.description),
      ...(r.ref ? { ref: r.ref } : {}),
    },
  );
}
