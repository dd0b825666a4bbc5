/**
 * The zero-downtime bench's app (bench/app): a static Go server built here with the machine's Go
 * (CGO_ENABLED=0, standard library only, so nothing is downloaded) and copied into the worktree
 * Gantry builds from, beside its Dockerfile (FROM the local base image) and its files.
 */
import { execFile } from 'node:child_process';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const APP = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'app');

/** The `go build` argv, without a module (GO111MODULE=off): one file, standard library only. */
export function goBuildArgs(out: string): string[] {
  return ['build', '-trimpath', '-ldflags=-s -w', '-o', out, 'main.go'];
}

/** Copies bench/app into `dir` and builds its binary there (`static`); returns the Go version. */
export async function prepareStaticApp(dir: string): Promise<{ go: string }> {
  await cp(APP, dir, { recursive: true, filter: (src) => !src.endsWith('.go') });
  // Built apart from the worktree: the source stays out of the image's context.
  const src = await mkdtemp(path.join(tmpdir(), 'gantry-static-'));
  try {
    await cp(path.join(APP, 'main.go'), path.join(src, 'main.go'));
    const env = { ...process.env, CGO_ENABLED: '0', GO111MODULE: 'off', GOFLAGS: '' };
    await run('go', goBuildArgs(path.join(dir, 'static')), { cwd: src, env });
    const { stdout } = await run('go', ['env', 'GOVERSION'], { env });
    return { go: stdout.trim() };
  } finally {
    await rm(src, { recursive: true, force: true });
  }
}
