import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ProbeResult, ProbeTarget } from '../../src/health/probe.js';
import { Prober, type ProbeFn } from '../../src/health/prober.js';
import type { Instance, Runtime } from '../../src/runtime/runtime.js';

const instance = { id: 'i-1' } as Instance;
const target: ProbeTarget = { hostPort: 1234, instance };
const runtime = {} as Runtime;
const schedule = { check: { kind: 'tcp' } as const, intervalMs: 1_000, timeoutMs: 500 };

describe('Prober', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('probes at once, then an interval after each probe finished, and reports every result', async () => {
    const calls: number[] = [];
    const probeFn: ProbeFn = async () => {
      calls.push(Date.now());
      // A slow probe: the next one waits for it, then for the interval.
      await new Promise((r) => setTimeout(r, 300));
      return { ok: calls.length % 2 === 1, detail: `probe ${calls.length}`, at: Date.now() };
    };
    const results: Array<[string, ProbeResult]> = [];
    const prober = new Prober(runtime, (id, r) => results.push([id, r]), probeFn);
    const t0 = Date.now();
    prober.watch(target, schedule);
    await vi.advanceTimersByTimeAsync(2_700);
    prober.stop();
    expect(calls.map((t) => t - t0)).toEqual([0, 1_300, 2_600]);
    expect(results.map(([id, r]) => `${id} ${r.ok} ${r.detail}`)).toEqual([
      'i-1 true probe 1',
      'i-1 false probe 2',
    ]);
  });

  it('tries a booting instance again soon, within its start period, until the first pass', async () => {
    const t0 = Date.now();
    const calls: number[] = [];
    // Listening from 250 ms after start; failing again later (counted from then on).
    const probeFn: ProbeFn = () => {
      const at = Date.now();
      calls.push(at - t0);
      const up = at - t0 >= 250 && at - t0 < 2_000;
      return Promise.resolve({ ok: up, detail: up ? '200' : 'refused', at });
    };
    const prober = new Prober(runtime, () => undefined, probeFn);
    const booting = { ...target, instance: { ...instance, startedAt: t0 } as Instance };
    prober.watch(booting, { ...schedule, startPeriodMs: 5_000 });
    await vi.advanceTimersByTimeAsync(3_400);
    prober.stop();
    // 0, 100, 200 fail; 300 passes; then every interval, even failing inside the start period.
    expect(calls).toEqual([0, 100, 200, 300, 1_300, 2_300, 3_300]);
  });

  it.each([
    { name: 'no start period is left', startedAgo: 60_000, check: { kind: 'tcp' } as const },
    {
      name: 'the check is an exec (too dear to repeat)',
      startedAgo: 0,
      check: { kind: 'exec', command: ['true'] } as const,
    },
  ])('keeps the interval when $name', async ({ startedAgo, check }) => {
    const calls: number[] = [];
    const probeFn: ProbeFn = () => {
      calls.push(Date.now());
      return Promise.resolve({ ok: false, detail: 'refused', at: Date.now() });
    };
    const prober = new Prober(runtime, () => undefined, probeFn);
    const t0 = Date.now();
    const i = { ...target, instance: { ...instance, startedAt: t0 - startedAgo } as Instance };
    prober.watch(i, { ...schedule, check, startPeriodMs: 5_000 });
    await vi.advanceTimersByTimeAsync(2_100);
    prober.stop();
    expect(calls.map((t) => t - t0)).toEqual([0, 1_000, 2_000]);
  });

  it('drops the result of a probe in flight when the instance is unwatched', async () => {
    const probeFn: ProbeFn = () =>
      new Promise((r) => setTimeout(() => r({ ok: true, detail: 'x', at: 0 }), 100));
    const onResult = vi.fn();
    const prober = new Prober(runtime, onResult, probeFn);
    prober.watch(target, schedule);
    prober.unwatch('i-1');
    await vi.advanceTimersByTimeAsync(5_000);
    expect(onResult).not.toHaveBeenCalled();
    expect(prober.watching()).toEqual([]);
  });

  it('turns a throwing probe into a failed result instead of dying', async () => {
    const probeFn: ProbeFn = () => Promise.reject(new Error('bug'));
    const onResult = vi.fn();
    const prober = new Prober(runtime, onResult, probeFn);
    prober.watch(target, schedule);
    await vi.advanceTimersByTimeAsync(10);
    prober.stop();
    expect(onResult).toHaveBeenCalledWith(
      'i-1',
      expect.objectContaining({ ok: false, detail: 'probe crashed: Error: bug' }),
    );
  });
  it('counts a result without verdict neither way, and probes again', async () => {
    let n = 0;
    const probeFn: ProbeFn = () =>
      Promise.resolve(
        ++n === 1
          ? { ok: false, detail: 'API server away', at: 0, noVerdict: true as const }
          : { ok: true, detail: 'ok', at: 0 },
      );
    const results: string[] = [];
    const prober = new Prober(runtime, (_id, r) => results.push(r.detail), probeFn);
    prober.watch(target, schedule);
    await vi.advanceTimersByTimeAsync(1_500);
    prober.stop();
    expect(results).toEqual(['ok']);
  });
});
