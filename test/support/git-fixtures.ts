/**
 * Git fixtures for integration tests: a bare repository served by the real smart-HTTP server, and
 * a working clone that commits with the git CLI and pushes over HTTP. Every git call is `execFile`
 * with an argv array.
 */
import { execFile } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import {
  createBareRepo,
  isolatedGitEnv,
  startGitHttpServer,
  type GitHttpServer,
} from '../../src/demo/git-http-server.js';

const run = promisify(execFile);

/** One file to write in a commit: text, a file with its executable bit, a symlink, or null to delete. */
export type FileChange =
  | string
  | { readonly content: string; readonly executable?: boolean }
  | { readonly symlink: string }
  | null;

/** A served bare repository with a working clone that pushes to it. */
export interface GitFixture {
  readonly server: GitHttpServer;
  /** Temporary directory holding everything; removed by `close()`. */
  readonly tmp: string;
  /** Clone URL (no credentials). */
  readonly url: string;
  readonly branch: string;
  /**
   * Writes `changes` in the working clone and commits; pushes `branch` unless `push: false`.
   * Returns the new commit's SHA.
   */
  commit(
    changes: Readonly<Record<string, FileChange>>,
    message?: string,
    opts?: { push?: boolean },
  ): Promise<string>;
  /** Pushes the working clone's HEAD to `branch`. */
  push(): Promise<void>;
  /** Runs git in the working clone and returns its trimmed stdout. */
  git(args: readonly string[]): Promise<string>;
  close(): Promise<void>;
}

/** Starts a git HTTP server with one empty repo (`app.git`, HEAD on `branch`) and clones it. */
export async function createGitFixture(
  opts: { auth?: { username: string; password: string }; branch?: string } = {},
): Promise<GitFixture> {
  const branch = opts.branch ?? 'main';
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'gantry-git-'));
  const root = path.join(tmp, 'srv');
  const work = path.join(tmp, 'work');
  await createBareRepo(root, 'app.git', branch);
  const server = await startGitHttpServer({ root, ...(opts.auth ? { auth: opts.auth } : {}) });
  const url = server.repoUrl('app.git');
  // Credentials go in a header passed as argv, never in the URL (which git would store in config).
  const authArgs = opts.auth
    ? [
        '-c',
        `http.extraHeader=Authorization: Basic ${Buffer.from(`${opts.auth.username}:${opts.auth.password}`).toString('base64')}`,
      ]
    : [];
  const env = isolatedGitEnv({
    GIT_AUTHOR_NAME: 'Ada Lovelace',
    GIT_AUTHOR_EMAIL: 'ada@example.test',
    GIT_COMMITTER_NAME: 'Ada Lovelace',
    GIT_COMMITTER_EMAIL: 'ada@example.test',
  });
  const git = async (args: readonly string[], cwd = work): Promise<string> => {
    const { stdout } = await run('git', [...authArgs, ...args], {
      cwd,
      env,
      maxBuffer: 64 * 1024 * 1024,
    });
    return stdout.trim();
  };
  await git(['clone', '--quiet', url, work], tmp);
  await git(['checkout', '--quiet', '-B', branch]);
  let n = 0;
  const push = async (): Promise<void> => {
    await git(['push', '--quiet', 'origin', `HEAD:refs/heads/${branch}`]);
  };

  return {
    server,
    tmp,
    url,
    branch,
    git: (args) => git(args),
    async commit(changes, message, commitOpts = {}) {
      for (const [file, change] of Object.entries(changes)) await apply(work, file, change, git);
      await git(['add', '--all']);
      await git(['commit', '--quiet', '--allow-empty', '-m', message ?? `commit ${++n}`]);
      if (commitOpts.push !== false) await push();
      return git(['rev-parse', 'HEAD']);
    },
    push: () => push(),
    async close() {
      await server.close();
      await rm(tmp, { recursive: true, force: true });
    },
  };
}

async function apply(
  work: string,
  file: string,
  change: FileChange,
  git: (args: readonly string[]) => Promise<string>,
): Promise<void> {
  const full = path.join(work, file);
  if (change === null) {
    await git(['rm', '--quiet', '-r', '--', file]);
    return;
  }
  await mkdir(path.dirname(full), { recursive: true });
  await rm(full, { force: true });
  if (typeof change === 'string') {
    await writeFile(full, change);
  } else if ('symlink' in change) {
    await symlink(change.symlink, full);
  } else {
    await writeFile(full, change.content);
    await chmod(full, change.executable ? 0o755 : 0o644);
  }
}
