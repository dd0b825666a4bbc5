import { execFile } from 'node:child_process';
import { cp, mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * A developer's clone, driven through the git CLI with argv arrays (never a shell), used by the
 * demo, tests and benchmarks to make real commits and push them over smart HTTP.
 */
export class Worktree {
  private constructor(readonly dir: string) {}

  /** Clones `url` into `dir` (empty remote allowed) with a fixed identity. */
  static async clone(url: string, dir: string, branch = 'main'): Promise<Worktree> {
    await rm(dir, { recursive: true, force: true });
    await mkdir(path.dirname(dir), { recursive: true });
    await run('git', ['clone', '--quiet', url, dir]);
    const wt = new Worktree(dir);
    await wt.git('config', 'user.name', 'Ada Lovelace');
    await wt.git('config', 'user.email', 'ada@example.com');
    await wt.git('checkout', '--quiet', '-B', branch);
    return wt;
  }

  async git(...args: string[]): Promise<string> {
    const { stdout } = await run('git', args, { cwd: this.dir, maxBuffer: 16 * 1024 * 1024 });
    return stdout.trim();
  }

  /** Copies a directory's files into the worktree (at `into`, default the root). */
  async copyFrom(src: string, into = '.'): Promise<void> {
    await cp(src, path.join(this.dir, into), { recursive: true });
  }

  async write(file: string, content: string): Promise<void> {
    const full = path.join(this.dir, file);
    await mkdir(path.dirname(full), { recursive: true });
    await writeFile(full, content);
  }

  /** Stages everything, commits, and returns the new commit's SHA. */
  async commit(message: string): Promise<string> {
    await this.git('add', '--all');
    await this.git('commit', '--quiet', '--allow-empty', '-m', message);
    return this.git('rev-parse', 'HEAD');
  }

  async push(branch = 'main'): Promise<void> {
    await this.git('push', '--quiet', 'origin', `HEAD:refs/heads/${branch}`);
  }
}
