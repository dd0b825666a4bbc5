/**
 * Readers-writer locks keyed by a string (a cache directory), within this process. isomorphic-git
 * writes a fetched pack, then its index, then refs, none of it atomically: a reader that lists the
 * packs mid-fetch can read a half-written index. So fetches take the lock exclusively and reads
 * share it. Waiters are served in arrival order, so a stream of reads cannot starve a fetch.
 */

interface Waiter {
  readonly exclusive: boolean;
  readonly start: () => void;
}

interface LockState {
  readers: number;
  writer: boolean;
  readonly queue: Waiter[];
}

const locks = new Map<string, LockState>();

/** Runs `fn` while holding the lock for `key` exclusively. */
export function withExclusive<T>(key: string, fn: () => Promise<T>): Promise<T> {
  return run(key, true, fn);
}

/** Runs `fn` while holding the lock for `key` shared with other readers. */
export function withShared<T>(key: string, fn: () => Promise<T>): Promise<T> {
  return run(key, false, fn);
}

async function run<T>(key: string, exclusive: boolean, fn: () => Promise<T>): Promise<T> {
  const state = locks.get(key) ?? { readers: 0, writer: false, queue: [] };
  locks.set(key, state);
  await new Promise<void>((resolve) => {
    state.queue.push({ exclusive, start: resolve });
    admit(state);
  });
  try {
    return await fn();
  } finally {
    if (exclusive) state.writer = false;
    else state.readers--;
    admit(state);
    if (!state.writer && state.readers === 0 && state.queue.length === 0) locks.delete(key);
  }
}

/** Starts waiters from the head of the queue for as long as they are compatible with the holders. */
function admit(state: LockState): void {
  for (;;) {
    const next = state.queue[0];
    if (next === undefined || state.writer) return;
    if (next.exclusive && state.readers > 0) return;
    state.queue.shift();
    if (next.exclusive) state.writer = true;
    else state.readers++;
    next.start();
  }
}
