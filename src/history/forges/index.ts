/** The forges Gantry reports to, behind one builder of commit-status requests. Pure. */
import type { ForgeConfig } from '../../config/controller-config.js';
import type { OutgoingRequest } from '../outgoing.js';
import { giteaStatus } from './gitea.js';
import { githubStatus } from './github.js';
import { gitlabStatus } from './gitlab.js';
import type { StatusReport } from './report.js';

export { projectOf, statusContext, type ReportState, type StatusReport } from './report.js';
export { githubCreateDeployment, githubDeploymentId, githubDeploymentStatus } from './github.js';

/** The commit-status request for `forge`. */
export function statusRequest(
  forge: ForgeConfig,
  project: string,
  report: StatusReport,
): OutgoingRequest {
  switch (forge.kind) {
    case 'github':
      return githubStatus(forge, project, report);
    case 'gitlab':
      return gitlabStatus(forge, project, report);
    case 'gitea':
      return giteaStatus(forge, project, report);
  }
}
