import type { ControllerConfig } from './controller-config.js';

/** A value, or a function that reads its current version (what a reloadable part is given). */
export type Current<T> = T | (() => T);

/** The current version of `value`: called when it is a reader, else itself. */
export function currentOf<T extends object>(value: Current<T>): T {
  return typeof value === 'function' ? value() : value;
}

/** Called after the config was replaced, with the new and the previous one. */
export type ConfigListener = (next: ControllerConfig, prev: ControllerConfig) => void;

/**
 * The controller's config as it is now: the parts that reload without a restart (repos, tokens,
 * notifications) read `current()` when they need it instead of keeping a copy. Replaced as a whole,
 * never mutated, so a reader sees one consistent version.
 */
export class LiveConfig {
  private config: ControllerConfig;
  private readonly listeners = new Set<ConfigListener>();

  constructor(initial: ControllerConfig) {
    this.config = initial;
  }

  current(): ControllerConfig {
    return this.config;
  }

  /** Installs `next`, then tells every listener (in the order they subscribed). */
  replace(next: ControllerConfig): void {
    const prev = this.config;
    this.config = next;
    for (const listener of this.listeners) listener(next, prev);
  }

  /** Subscribes to replacements; returns the unsubscribe function. */
  onChange(listener: ConfigListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
