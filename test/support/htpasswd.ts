/** Credentials files for test registries (`docker-registry` with htpasswd authentication). */
import { spawnSync } from 'node:child_process';

/** An htpasswd line: the registry takes bcrypt only (Python's crypt has it through libxcrypt). */
export function htpasswdLine(user: string, password: string): string {
  const py =
    'import crypt,sys; print(crypt.crypt(sys.argv[1], crypt.mksalt(crypt.METHOD_BLOWFISH)))';
  const out = spawnSync('python3', ['-W', 'ignore', '-c', py, password], { encoding: 'utf8' });
  const hash = out.stdout.trim();
  if (!/^\$2[aby]\$/.test(hash)) throw new Error(`no bcrypt from python3: ${out.stderr}`);
  return `${user}:${hash}\n`;
}
