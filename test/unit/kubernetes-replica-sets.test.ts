import { describe, expect, it } from 'vitest';
import { liveSlots, slotsPatch } from '../../src/runtime/kubernetes/replica-sets.js';

describe('slots of a ReplicaSet scaled by hand', () => {
  it.each([
    ['replicas equal to the slots: all kept', ['a', 'b', 'c'], 3, ['a', 'b'], ['a', 'b', 'c']],
    ['scaled up by hand: all kept (the extra pods go)', ['a', 'b', 'c'], 5, ['a'], ['a', 'b', 'c']],
    ['replicas unknown: all kept', ['a', 'b'], undefined, [], ['a', 'b']],
    ['scaled down by one: the slot no pod holds goes', ['a', 'b', 'c'], 2, ['a', 'c'], ['a', 'c']],
    ['scaled down by two: both unheld go', ['a', 'b', 'c'], 1, ['b'], ['b']],
    // A slot whose pod is being made (added a moment ago) is unheld too: never more than replicas lost.
    ['more unheld than lost: only as many as lost go', ['a', 'b', 'c'], 2, ['a'], ['a', 'c']],
    ['a held slot is never dropped, even beyond replicas', ['a', 'b'], 0, ['a', 'b'], ['a', 'b']],
  ])('%s', (_name, slots, replicas, held, want) => {
    expect(liveSlots(slots, replicas, new Set(held))).toEqual(want);
  });

  it('writes slots and replicas together, conditional on the version read', () => {
    expect(slotsPatch(['b', 'a', 'a'], '42')).toEqual({
      metadata: { resourceVersion: '42', annotations: { 'gantry.dev/slots': 'a,b' } },
      spec: { replicas: 2 },
    });
  });
});
