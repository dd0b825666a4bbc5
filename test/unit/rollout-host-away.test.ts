/**
 * A host of several that stops answering mid-rollout: the core fails the rollout naming it, rolls
 * back on the hosts that answer (never acting on the lost one), and ends once those run what they
 * ran before; what is left on the lost host is the reconciler's when it returns.
 */
import { describe, expect, it } from 'vitest';
import type { Action, Observed } from '../../src/rollout/index.js';
import { NEW, OLD, drive, testPlan } from './rollout-drive.js';
import { World } from './rollout-world.js';

/** A world whose host `two` stops answering once `away()` says so. */
function withHostAway(world: World, away: () => boolean): World {
  const observe = world.observe.bind(world);
  world.observe = (): Observed => {
    const seen = observe();
    if (!away()) return seen;
    return {
      ...seen,
      instances: seen.instances.filter((i) => i.host !== 'two'),
      unreachable: [{ host: 'two', detail: 'connect ECONNREFUSED 10.203.0.2:2376' }],
    };
  };
  return world;
}

const touches = (a: Action, ids: ReadonlySet<string>): boolean =>
  (a.kind === 'start' && a.host === 'two') ||
  ((a.kind === 'route' || a.kind === 'unroute') && a.instanceIds.some((id) => ids.has(id))) ||
  (a.kind === 'stop' && ids.has(a.instanceId));

describe('rollout core: a host that stops answering', () => {
  it('fails naming the host and rolls back on the host that answers only', () => {
    const plan = testPlan({ replicas: 3, hosts: ['one', 'two'] });
    let lost = false;
    const world = withHostAway(new World({ plan }), () => lost);
    const onTwo = new Set<string>();
    const after: Action[] = [];
    const run = drive(world, {
      onStep: (_step, decision, w) => {
        if (lost) after.push(...decision.actions);
        // Mid-rollout: once a new instance serves.
        if (!lost && w.of(NEW.sha).some((i) => i.routed)) {
          lost = true;
          for (const i of w.instances) if (i.host === 'two') onTwo.add(i.id);
        }
      },
    });
    expect(run.finish).toMatchObject({ outcome: 'failed', restored: true });
    expect(run.state.failure).toMatchObject({
      check: 'host-unreachable',
      hosts: ['two'],
      detail: expect.stringContaining('host "two" is not reachable (connect ECONNREFUSED'),
    });
    // Nothing was asked of the lost host once it went away.
    expect(after.filter((a) => touches(a, onTwo))).toEqual([]);
    const onOne = (sha: string) => world.of(sha).filter((i) => i.host === 'one');
    // The host that answers runs only the old revision again, as many as it ran before: the
    // old instance on `two` still counts, unknown rather than gone.
    expect(onOne(NEW.sha)).toEqual([]);
    const oldOnTwo = world.of(OLD.sha).filter((i) => i.host === 'two' && onTwo.has(i.id)).length;
    expect(onOne(OLD.sha).length).toBe(3 - oldOnTwo);
    expect(onOne(OLD.sha).every((i) => i.routed)).toBe(true);
    expect(world.violations).toEqual([]);
  });

  it('fails a rollout begun while a host is away before it starts anything there', () => {
    const plan = testPlan({ replicas: 2, hosts: ['one', 'two'] });
    const world = withHostAway(new World({ plan }), () => true);
    const run = drive(world);
    expect(run.finish).toMatchObject({ outcome: 'failed' });
    expect(run.state.failure?.check).toBe('host-unreachable');
    expect(run.decisions.flatMap((d) => d.actions).filter((a) => a.kind === 'start')).toEqual(
      run.decisions
        .flatMap((d) => d.actions)
        .filter((a) => a.kind === 'start' && a.host === 'one' && a.revision === OLD.sha),
    );
    expect(world.of(NEW.sha)).toEqual([]);
  });
});
