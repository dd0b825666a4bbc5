/**
 * What happened during a decision, for the one event stream that history, SSE, CLI progress and
 * metrics consume. Emitted only on transitions, never as a status report.
 */
import type { Intent } from './intent.js';
import type { Phase } from './phase.js';
import type { Evidence, Failure, Outcome, Role } from './state.js';

export type RolloutEvent =
  | {
      readonly kind: 'phase-changed';
      readonly at: number;
      readonly phase: Phase;
      readonly previous: Phase;
    }
  /** Found running with no record in the state (another process started it, or state was lost). */
  | {
      readonly kind: 'instance-adopted';
      readonly at: number;
      readonly slot: string;
      readonly instanceId: string;
      readonly role: Role;
    }
  | { readonly kind: 'instance-health'; readonly at: number; readonly evidence: Evidence }
  /** Gone from the runtime without being asked to go. */
  | {
      readonly kind: 'instance-lost';
      readonly at: number;
      readonly slot: string;
      readonly instanceId: string;
    }
  /** Gone from the runtime after being stopped. */
  | {
      readonly kind: 'instance-removed';
      readonly at: number;
      readonly slot: string;
      readonly instanceId: string;
    }
  | { readonly kind: 'intent-applied'; readonly at: number; readonly intent: Intent }
  | {
      readonly kind: 'intent-ignored';
      readonly at: number;
      readonly intent: Intent;
      readonly why: string;
    }
  | {
      readonly kind: 'failed';
      readonly at: number;
      readonly failure: Failure;
      readonly rollingBack: boolean;
    }
  | {
      readonly kind: 'finished';
      readonly at: number;
      readonly outcome: Outcome;
      readonly restored: boolean;
    };
