/**
 * Listing a runtime whose hosts may not all answer: `Runtime.survey` where the runtime has one,
 * else its all-or-none `list` with no host missing.
 */
import { GantryError } from '../errors.js';
import type { InstanceFilter, Runtime, Survey, UnreachableHost } from './runtime.js';

export async function surveyOf(runtime: Runtime, filter: InstanceFilter): Promise<Survey> {
  if (runtime.survey) return runtime.survey(filter);
  return { instances: await runtime.list(filter), unreachable: [] };
}

/** "host "two" is not reachable (…)" for each host, in one sentence a status or a failure can quote. */
export function describeUnreachable(hosts: readonly UnreachableHost[]): string {
  return hosts.map((h) => `host "${h.host}" is not reachable (${h.detail})`).join('; ');
}

/** The error `list` gives when a host does not answer, for callers that act only on a whole fleet. */
export function unreachableError(hosts: readonly UnreachableHost[]): GantryError {
  return new GantryError('GANTRY_ERR_DOCKER_UNAVAILABLE', describeUnreachable(hosts));
}
