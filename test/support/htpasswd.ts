/** Test registries that refuse anonymous requests (`docker-registry` with htpasswd authentication). */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startRegistry, type RegistryServer } from '../../src/demo/registry-server.js';

/** An htpasswd line: the registry takes bcrypt only (Python's crypt has it through libxcrypt). */
export function htpasswdLine(user: string, password: string): string {
  const py =
    'import crypt,sys; print(crypt.crypt(sys.argv[1], crypt.mksalt(crypt.METHOD_BLOWFISH)))';
  const out = spawnSync('python3', ['-W', 'ignore', '-c', py, password], { encoding: 'utf8' });
  const hash = out.stdout.trim();
  if (!/^\$2[aby]\$/.test(hash)) throw new Error(`no bcrypt from python3: ${out.stderr}`);
  return `${user}:${hash}\n`;
}

export interface AuthRegistry {
  readonly registry: RegistryServer;
  readonly user: string;
  readonly password: string;
  /** The variable the controller config names (`registry.passwordEnv`); set in process.env. */
  readonly passwordEnv: string;
  /** The `registry:` entries of a fixture's controller config for these credentials. */
  readonly entries: string[];
  stop(): Promise<void>;
}

/** Starts a registry in `dir` that only `user` with a fresh random password may use. */
export async function startAuthRegistry(dir: string, user: string): Promise<AuthRegistry> {
  await mkdir(dir, { recursive: true });
  const password = `pw-${randomBytes(16).toString('hex')}`;
  const passwordEnv = `GANTRY_TEST_REGISTRY_PASSWORD_${randomBytes(4).toString('hex').toUpperCase()}`;
  const htpasswd = join(dir, 'htpasswd');
  await writeFile(htpasswd, htpasswdLine(user, password));
  const registry = await startRegistry({ dir: join(dir, 'registry'), htpasswd });
  process.env[passwordEnv] = password;
  return {
    registry,
    user,
    password,
    passwordEnv,
    entries: [`username: ${user}`, `passwordEnv: ${passwordEnv}`],
    async stop() {
      await registry.stop();
      delete process.env[passwordEnv];
    },
  };
}
