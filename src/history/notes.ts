/**
 * Deployment history written back to git: lines added to the notes of deployed commits under
 * `refs/notes/gantry`, in the repo cache's bare git dir, and pushed to the origin with
 * isomorphic-git. Another writer (a second controller, a person with `git notes`) may have pushed
 * the notes ref first: then the remote notes are fetched and merged (per commit, the union of the
 * lines; a merge commit with both parents), and the push is tried again. Nothing is force-pushed,
 * so a note pushed by someone else is never lost.
 */
import * as fs from 'node:fs';
import path from 'node:path';
import * as git from 'isomorphic-git';
import nodeHttp, { type HttpClient } from 'isomorphic-git/http/node';
import { GantryError, errorMessage } from '../errors.js';
import { withExclusive } from '../source/dir-lock.js';
import { isIsoGitError } from '../source/git-errors.js';
import type { RemoteCredentials } from '../source/remote-url.js';
import { appendNoteLine, mergeNoteTexts } from './note-text.js';

/** The notes ref Gantry writes; `git log --notes=gantry` reads it. */
export const NOTES_REF = 'refs/notes/gantry';
/** Where the fetched remote notes land locally (never pushed). */
const FETCHED_REF = 'refs/gantry/notes-fetched';
const SHA = /^[0-9a-f]{40}$/;
const IDENTITY = { name: 'Gantry', email: 'gantry@localhost' };

/** The git dir to write in and the remote to push to. */
export interface NotesTarget {
  /** A bare git dir: the repo cache's, created by its first fetch. */
  readonly dir: string;
  /** Remote URL without credentials. */
  readonly url: string;
  readonly credentials?: RemoteCredentials | undefined;
}

/** One line to add to the note of one commit. */
export interface NoteAddition {
  readonly sha: string;
  readonly line: string;
}

export interface NotesOptions {
  /** Fetch-merge-push rounds before giving up (default 5). */
  readonly attempts?: number;
  /** Idle timeout of one HTTP connection (ms, default 20 s). */
  readonly timeoutMs?: number;
}

/** Adds note lines and pushes the notes ref; merges with the remote's notes when they diverged. */
export class GitNotes {
  private readonly attempts: number;
  private readonly http: HttpClient;

  constructor(opts: NotesOptions = {}) {
    this.attempts = opts.attempts ?? 5;
    const timeout = opts.timeoutMs ?? 20_000;
    this.http = {
      request: (req) =>
        nodeHttp.request({ ...req, fetchOptions: { ...req.fetchOptions, timeout } }),
    };
  }

  /**
   * Adds `lines` to their commits' notes and pushes `refs/notes/gantry` to the origin; returns the
   * pushed notes commit. Serialized with the repo cache's own fetches (same directory lock).
   */
  async add(target: NotesTarget, lines: readonly NoteAddition[]): Promise<string> {
    for (const l of lines) {
      if (!SHA.test(l.sha)) throw new RangeError(`not a commit id: ${l.sha}`);
      if (l.line.includes('\n')) throw new RangeError('a note line holds no newline');
    }
    if (!fs.existsSync(path.join(target.dir, 'HEAD'))) {
      throw new GantryError(
        'GANTRY_ERR_NOTES_PUSH',
        `no git dir at ${target.dir} yet: the repo was never fetched`,
      );
    }
    return withExclusive(target.dir, async () => {
      let last: unknown;
      for (let attempt = 1; attempt <= this.attempts; attempt++) {
        const remote = await this.fetchRemote(target);
        const base = await this.combine(target.dir, await localOid(target.dir, NOTES_REF), remote);
        const next = await addLines(target.dir, base, lines);
        await git.writeRef({ fs, gitdir: target.dir, ref: NOTES_REF, value: next, force: true });
        if (next === remote) return next;
        try {
          await git.push(this.transfer(target));
          return next;
        } catch (e) {
          // Someone pushed the notes ref since we fetched it: fetch, merge and try again.
          if (!isIsoGitError(e, 'PushRejectedError') && !isIsoGitError(e, 'GitPushError')) {
            throw notesError(target, e);
          }
          last = e;
        }
      }
      throw notesError(target, last, `still rejected after ${this.attempts} attempts`);
    });
  }

  /** What a push or fetch of the notes ref between the git dir and the origin takes. */
  private transfer(target: NotesTarget) {
    return {
      fs,
      http: this.http,
      gitdir: target.dir,
      url: target.url,
      ref: NOTES_REF,
      remoteRef: NOTES_REF,
      onAuth: onAuth(target.credentials),
    };
  }

  /** The remote's notes commit (fetched into the git dir), or null when it has none. */
  private async fetchRemote(target: NotesTarget): Promise<string | null> {
    let refs: git.ServerRef[];
    try {
      refs = await git.listServerRefs({
        http: this.http,
        url: target.url,
        prefix: NOTES_REF,
        protocolVersion: 2,
        onAuth: onAuth(target.credentials),
      });
    } catch (e) {
      throw notesError(target, e);
    }
    const oid = refs.find((r) => r.ref === NOTES_REF)?.oid ?? null;
    if (oid === null || (await hasObject(target.dir, oid))) return oid;
    try {
      // The whole notes history (it is small: no code objects hang off notes trees), so that
      // ancestry checks and the push's object walk never meet a shallow boundary.
      const res = await git.fetch({ ...this.transfer(target), singleBranch: true, tags: false });
      const fetched = res.fetchHead ?? oid;
      await git.writeRef({ fs, gitdir: target.dir, ref: FETCHED_REF, value: fetched, force: true });
      return fetched;
    } catch (e) {
      throw notesError(target, e);
    }
  }

  /** One notes commit holding both sides: the newer when one descends from the other, else a merge. */
  private async combine(dir: string, local: string | null, remote: string | null) {
    if (local === null || local === remote) return remote;
    if (remote === null) return local;
    if (await git.isDescendent({ fs, gitdir: dir, oid: remote, ancestor: local, depth: -1 })) {
      return remote;
    }
    if (await git.isDescendent({ fs, gitdir: dir, oid: local, ancestor: remote, depth: -1 })) {
      return local;
    }
    const [ours, theirs] = await Promise.all([readNotes(dir, local), readNotes(dir, remote)]);
    const merged = new Map(ours);
    for (const [sha, blob] of theirs) {
      const mine = merged.get(sha);
      if (mine === undefined || mine === blob) {
        merged.set(sha, blob);
        continue;
      }
      const text = mergeNoteTexts(await readText(dir, mine), await readText(dir, blob));
      merged.set(sha, await git.writeBlob({ fs, gitdir: dir, blob: Buffer.from(text) }));
    }
    return writeNotesCommit(dir, merged, [local, remote], 'Notes merged by gantry');
  }
}

/** Reads the note of `sha` from the local notes ref, or null; for tests and tools. */
export async function readLocalNote(dir: string, sha: string): Promise<string | null> {
  try {
    const note = await git.readNote({ fs, gitdir: dir, ref: NOTES_REF, oid: sha });
    return Buffer.from(note).toString('utf8');
  } catch (e) {
    if (isIsoGitError(e, 'NotFoundError')) return null;
    throw e;
  }
}

async function addLines(
  dir: string,
  base: string | null,
  lines: readonly NoteAddition[],
): Promise<string> {
  const notes = base === null ? new Map<string, string>() : await readNotes(dir, base);
  let changed = false;
  for (const { sha, line } of lines) {
    const blob = notes.get(sha);
    const before = blob === undefined ? '' : await readText(dir, blob);
    const after = appendNoteLine(before, line);
    if (after === before) continue;
    notes.set(sha, await git.writeBlob({ fs, gitdir: dir, blob: Buffer.from(after) }));
    changed = true;
  }
  if (!changed && base !== null) return base;
  return writeNotesCommit(dir, notes, base === null ? [] : [base], 'Notes added by gantry');
}

/**
 * Commit → note blob of a notes commit. git writes fan-out trees (`ab/cdef…`) once a notes tree is
 * large, so nested entries are read too; we write flat trees, which git reads just the same.
 */
async function readNotes(dir: string, commit: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const walk = async (oid: string, prefix: string): Promise<void> => {
    const { tree } = await git.readTree({ fs, gitdir: dir, oid });
    for (const e of tree) {
      if (e.type === 'tree') await walk(e.oid, prefix + e.path);
      else if (e.type === 'blob' && SHA.test(prefix + e.path)) out.set(prefix + e.path, e.oid);
    }
  };
  const { commit: c } = await git.readCommit({ fs, gitdir: dir, oid: commit });
  await walk(c.tree, '');
  return out;
}

async function writeNotesCommit(
  dir: string,
  notes: ReadonlyMap<string, string>,
  parents: string[],
  message: string,
): Promise<string> {
  const tree = await git.writeTree({
    fs,
    gitdir: dir,
    tree: [...notes].map(([sha, oid]) => ({ mode: '100644', path: sha, oid, type: 'blob' })),
  });
  const who = { ...IDENTITY, timestamp: Math.floor(Date.now() / 1000), timezoneOffset: 0 };
  return git.writeCommit({
    fs,
    gitdir: dir,
    commit: { tree, parent: parents, author: who, committer: who, message: `${message}\n` },
  });
}

async function readText(dir: string, oid: string): Promise<string> {
  const { blob } = await git.readBlob({ fs, gitdir: dir, oid });
  return Buffer.from(blob).toString('utf8');
}

async function localOid(dir: string, ref: string): Promise<string | null> {
  try {
    return await git.resolveRef({ fs, gitdir: dir, ref });
  } catch (e) {
    if (isIsoGitError(e, 'NotFoundError')) return null;
    throw e;
  }
}

async function hasObject(dir: string, oid: string): Promise<boolean> {
  try {
    await git.readObject({ fs, gitdir: dir, oid, format: 'deflated' });
    return true;
  } catch (e) {
    if (isIsoGitError(e, 'NotFoundError')) return false;
    throw e;
  }
}

function onAuth(credentials: RemoteCredentials | undefined): () => git.GitAuth | undefined {
  return () =>
    credentials === undefined
      ? undefined
      : { username: credentials.username ?? 'x-access-token', password: credentials.password };
}

// The message names the remote without credentials and never includes the token.
function notesError(target: NotesTarget, cause: unknown, extra?: string): GantryError {
  let detail = errorMessage(cause);
  const secret = target.credentials?.password;
  if (secret) detail = detail.split(secret).join('***');
  return new GantryError(
    'GANTRY_ERR_NOTES_PUSH',
    `pushing ${NOTES_REF} to ${target.url} failed${extra ? ` (${extra})` : ''}: ${detail}`,
    { details: { url: target.url } },
  );
}
