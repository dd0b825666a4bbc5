/**
 * What every whole-Gantry benchmark runs on: the local Redis and registry, and a git smart-HTTP
 * server with one empty repository (`app.git`, branch `main`) whose pushes are signed with `secret`.
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import {
  createBareRepo,
  startGitHttpServer,
  type GitHttpServer,
} from '../../src/demo/git-http-server.js';
import { startLocalServices, type LocalServices } from '../../src/demo/services.js';

export interface BenchBackends {
  readonly services: LocalServices;
  readonly git: GitHttpServer;
  readonly repoUrl: string;
  /** The webhook secret the controller and the forge share. */
  readonly secret: string;
}

/** Starts the backends under `dir`; each one's stop is pushed onto `stops` as soon as it runs. */
export async function startBackends(
  dir: string,
  stops: (() => Promise<void>)[],
): Promise<BenchBackends> {
  const services = await startLocalServices({ root: path.join(dir, 'services') });
  stops.push(() => services.stop());
  const git = await startGitHttpServer({ root: path.join(dir, 'git') });
  stops.push(() => git.close());
  await createBareRepo(path.join(dir, 'git'), 'app.git', 'main');
  return {
    services,
    git,
    repoUrl: git.repoUrl('app.git'),
    secret: randomBytes(20).toString('hex'),
  };
}
