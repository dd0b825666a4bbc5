/**
 * The commit status GitHub documents and Gitea follows: `POST {repo API}/statuses/{sha}` with
 * `{ state, target_url, description, context }`. The two forges differ only in where the repo API
 * is, the auth header, and the state a superseded rollout gets. Pure.
 */
import type { OutgoingRequest } from '../outgoing.js';
import { description, statusContext, type ReportState, type StatusReport } from './report.js';
import { forgePost } from './request.js';

/** The states GitHub and Gitea share. */
export type CommitStatusState = 'pending' | 'success' | 'failure';

/** The shared state of `s`; a superseded rollout gets the forge's own `superseded` state. */
export function commitStatusState<S extends string>(
  s: ReportState,
  superseded: S,
): CommitStatusState | S {
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
      return superseded;
  }
}

/** `POST {repoApi}/statuses/{sha}` for `r`, as `context: gantry/<env>`. */
export function commitStatusRequest(
  repoApi: string,
  headers: Readonly<Record<string, string>>,
  state: string,
  r: StatusReport,
): OutgoingRequest {
  return forgePost(`${repoApi}/statuses/${r.sha}`, headers, {
    state,
    target_url: r.targetUrl,
    description: description(r.description),
    context: statusContext(r.env),
  });
}
