/** What a probe reports: evidence, not a verdict (the rollout core applies the thresholds). */
import type { Instance } from '../runtime/runtime.js';

export interface ProbeResult {
  readonly ok: boolean;
  /** Short evidence: "GET /healthz → 503 after 12 ms", "connect ECONNREFUSED", "exit 1: …". */
  readonly detail: string;
  /** The HTTP status, for http checks that got an answer. */
  readonly status?: number | undefined;
  /** Epoch ms when the probe finished. */
  readonly at: number;
  /**
   * The runtime could not be asked (the API server away): neither pass nor fail. The prober
   * drops such results, as nothing is judged while a Docker engine is unreachable.
   */
  readonly noVerdict?: true | undefined;
}

export interface ProbeTarget {
  /** The instance's port on its host's address (`instance.hostAddress`); undefined when not published. */
  readonly hostPort: number | undefined;
  readonly instance: Instance;
}
