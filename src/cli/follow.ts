import { setTimeout as sleep } from 'node:timers/promises';
import type { BuildRecord } from '../store/records.js';
import { api, type ClientOptions } from './client.js';

interface LogPage {
  status: string;
  finished: boolean;
  next: number;
  lines: string[];
}

/** Prints a build's log; with `follow`, keeps reading until the build finishes. */
export async function followBuildLog(
  opts: ClientOptions,
  buildId: string,
  how: { follow: boolean; write: (line: string) => void; pollMs?: number },
): Promise<BuildRecord> {
  let from = 0;
  for (;;) {
    const page = await api<LogPage>(
      opts,
      `/api/builds/${encodeURIComponent(buildId)}/log?from=${from}`,
    );
    for (const l of page.lines) how.write(l);
    from = page.next;
    if (page.finished || !how.follow) break;
    await sleep(how.pollMs ?? 300);
  }
  // One more read after the finish, so lines flushed with the final status are not missed.
  const tail = await api<LogPage>(
    opts,
    `/api/builds/${encodeURIComponent(buildId)}/log?from=${from}`,
  );
  for (const l of tail.lines) how.write(l);
  return api<BuildRecord>(opts, `/api/builds/${encodeURIComponent(buildId)}`);
}
