/** Runs the real `gantry` CLI (bin/gantry.js) as a child process, as a user's shell would. */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { ROOT } from '../support/controller-fixture.js';

const BIN = path.join(ROOT, 'bin', 'gantry.js');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * `gantry …args` with GANTRY_URL/GANTRY_TOKEN from `client` (when given) and no CLI config file
 * of the machine's user (GANTRY_CLI_CONFIG points nowhere unless `env` says otherwise).
 */
export function gantry(
  args: string[],
  opts: { client?: { url: string; token?: string | undefined }; env?: Record<string, string> } = {},
): Promise<CliResult> {
  const env: NodeJS.ProcessEnv = { ...process.env, GANTRY_CLI_CONFIG: '/nonexistent/cli.yaml' };
  delete env.GANTRY_URL;
  delete env.GANTRY_TOKEN;
  if (opts.client) {
    env.GANTRY_URL = opts.client.url;
    if (opts.client.token) env.GANTRY_TOKEN = opts.client.token;
  }
  Object.assign(env, opts.env);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
