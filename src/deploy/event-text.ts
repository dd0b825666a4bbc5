import { describePhase, type RolloutEvent } from '../rollout/index.js';

/** One line for the event stream from a core event. */
export function eventText(e: RolloutEvent): string {
  switch (e.kind) {
    case 'phase-changed':
      return describePhase(e.phase);
    case 'instance-adopted':
      return `adopted ${e.slot} (${e.role})`;
    case 'instance-health':
      return `${e.evidence.slot} ${e.evidence.status}${e.evidence.detail ? `: ${e.evidence.detail}` : ''}`;
    case 'instance-lost':
      return `${e.slot} disappeared`;
    case 'instance-removed':
      return `${e.slot} removed`;
    case 'intent-applied':
      return `${e.intent.kind} applied`;
    case 'intent-ignored':
      return `${e.intent.kind} ignored: ${e.why}`;
    case 'failed':
      return `failed (${e.failure.check}): ${e.failure.detail}${e.rollingBack ? '; rolling back' : ''}`;
    case 'finished':
      return `finished: ${e.outcome}${e.outcome === 'failed' ? (e.restored ? ', previous revision restored' : ', NOT restored') : ''}`;
  }
}
