/**
 * What the world looks like at one instant, as the executor gathers it: the runtime's instances of
 * this app environment (found by their labels), the prober's recent results for each, and the
 * edge's error rate for the new revision. Plain data; the core never asks for it.
 */
import type { InstanceState, UnreachableHost } from '../runtime/runtime.js';

/** One health probe result. `at` is when it was taken (ms). */
export interface Probe {
  readonly at: number;
  readonly ok: boolean;
  readonly detail: string;
}

/** The engine's word for where an instance is in its life: the runtime port's own type. */
export type RuntimeState = InstanceState;

export interface ObservedInstance {
  /** The runtime's id (a container id). */
  readonly id: string;
  /** The slot label it was started with; unique per start request. */
  readonly slot: string;
  /** The commit SHA it runs. */
  readonly revision: string;
  /** The release it was started for; null (or absent) on instances from before releases. */
  readonly release?: number | null | undefined;
  /** Its process type label; absent or null: `web` (instances from before process types). */
  readonly process?: string | null | undefined;
  readonly host: string;
  readonly state: RuntimeState;
  /** Restarts since the container was created. */
  readonly restartCount: number;
  readonly exitCode: number | null;
  /** When the process started (ms), if the runtime says; the start period counts from here. */
  readonly startedAt: number | null;
  /** Whether the edge currently sends it traffic. */
  readonly routed: boolean;
  /**
   * Recent probe results, any window and any order: the core counts each result once (by `at`),
   * so the prober may hand over its whole ring buffer every time.
   */
  readonly probes: readonly Probe[];
}

/** The edge's view of the new revision's traffic over a recent window. */
export interface EdgeStats {
  /** Share of failed requests (5xx, resets), 0..1. */
  readonly errorRate: number;
  readonly requests: number;
}

export interface Observed {
  readonly instances: readonly ObservedInstance[];
  readonly edge: EdgeStats | null;
  /**
   * Hosts whose engine did not answer (never all of them): their instances are unknown, neither
   * seen nor gone. Absent: every host answered.
   */
  readonly unreachable?: readonly UnreachableHost[] | undefined;
}
