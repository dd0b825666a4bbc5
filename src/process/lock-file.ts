/**
 * A lock between processes (and between callers in one): a file created with O_EXCL holding the
 * owner's pid and a token of its own. A lock whose owner no longer runs (killed with SIGKILL, so
 * it never removed the file) is taken over.
 *
 * Takeover renames the stale file aside before creating ours, so two processes that find the same
 * stale lock cannot both win: only one rename succeeds, and one that moved a lock someone else had
 * just taken over puts it back.
 */
import { randomBytes } from 'node:crypto';
import { link, open, readFile, rename, rm } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { isRunning, type ArgvMatch } from './pid.js';

/** Removes the lock file if this caller still owns it. */
export type Release = () => Promise<void>;

/**
 * Creates `file` holding our pid and a token of this call, or resolves undefined while a live
 * process holds it. `owner` says what the holder's argv must be for it to count as live (a pid
 * reused by another program does not hold the lock); a holder that is this process always does.
 */
export async function tryLock(file: string, owner?: ArgvMatch): Promise<Release | undefined> {
  const mine = `${process.pid} ${randomBytes(8).toString('hex')}`;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const handle = await open(file, 'wx');
      await handle.writeFile(mine);
      await handle.close();
      return () => releaseIfOurs(file, mine);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const held = await readFile(file, 'utf8').catch(() => '');
    const holder = pidIn(held);
    // A file still empty is being written by its creator right now.
    if (holder === undefined) {
      await sleep(20);
      continue;
    }
    if (holder === process.pid || (await isRunning(holder, owner))) return undefined;
    const aside = `${file}.stale-${mine.replace(' ', '-')}`;
    const moved = await rename(file, aside).then(
      () => true,
      () => false,
    );
    if (!moved) continue;
    // Someone took the lock over between our read and our rename: give it back.
    if ((await readFile(aside, 'utf8').catch(() => '')) !== held) {
      await link(aside, file).catch(() => undefined);
    }
    await rm(aside, { force: true });
  }
  return undefined;
}

/** {@link tryLock}, retried until `timeoutMs`; throws when the holder keeps it that long. */
export async function lock(file: string, timeoutMs: number, owner?: ArgvMatch): Promise<Release> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const release = await tryLock(file, owner);
    if (release) return release;
    if (Date.now() > deadline) {
      const holder = await lockHolder(file);
      throw new Error(`${file} is held by pid ${holder ?? '?'} for more than ${timeoutMs} ms`);
    }
    await sleep(50);
  }
}

/** The pid written in a lock file, live or not; undefined when there is none. */
export async function lockHolder(file: string): Promise<number | undefined> {
  return pidIn(await readFile(file, 'utf8').catch(() => ''));
}

function pidIn(content: string): number | undefined {
  const pid = Number(content.split(' ')[0]);
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

async function releaseIfOurs(file: string, mine: string): Promise<void> {
  if ((await readFile(file, 'utf8').catch(() => '')) === mine) await rm(file, { force: true });
}
