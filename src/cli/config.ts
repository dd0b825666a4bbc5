import { execFileSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { GantryError, errorMessage } from '../errors.js';

export const DEFAULT_URL = 'http://127.0.0.1:8700';

/** What `~/.config/gantry/cli.yaml` may hold. */
export interface CliConfigFile {
  url?: string | undefined;
  token?: string | undefined;
  /** A command whose standard output is the token (a password manager, a vault CLI). */
  tokenCommand?: string | undefined;
}

/** Where the URL and token came from, so `gantry` can say so without showing the token. */
export type Source = 'flag' | 'env' | 'file' | 'default' | 'none';

export interface ResolvedClient {
  url: string;
  urlFrom: Source;
  /** The token, or a command to run for it (run only when nothing earlier gave one). */
  token: { value: string; from: Source } | { command: string; from: 'file' } | undefined;
}

/** `$GANTRY_CLI_CONFIG`, else `$XDG_CONFIG_HOME/gantry/cli.yaml`, else `~/.config/gantry/cli.yaml`. */
export function cliConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.GANTRY_CLI_CONFIG) return env.GANTRY_CLI_CONFIG;
  const base = env.XDG_CONFIG_HOME || path.join(os.homedir(), '.config');
  return path.join(base, 'gantry', 'cli.yaml');
}

const KEYS = new Set(['url', 'token', 'tokenCommand']);

/** Validates the file's parsed YAML; unknown keys are errors, so a typo is not silently ignored. */
export function parseCliConfig(text: string, file: string): CliConfigFile {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (e) {
    throw new GantryError('GANTRY_ERR_CONFIG_INVALID', `${file}: ${errorMessage(e)}`);
  }
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== 'object' || Array.isArray(doc)) {
    throw new GantryError('GANTRY_ERR_CONFIG_INVALID', `${file}: expected a mapping of url/token`);
  }
  const out: CliConfigFile = {};
  for (const [k, v] of Object.entries(doc)) {
    if (!KEYS.has(k)) {
      throw new GantryError(
        'GANTRY_ERR_CONFIG_INVALID',
        `${file}: unknown key "${k}" (allowed: url, token, tokenCommand)`,
      );
    }
    if (typeof v !== 'string' || v.length === 0) {
      throw new GantryError(
        'GANTRY_ERR_CONFIG_INVALID',
        `${file}: ${k} must be a non-empty string`,
      );
    }
    out[k as keyof CliConfigFile] = v;
  }
  if (out.token && out.tokenCommand) {
    throw new GantryError(
      'GANTRY_ERR_CONFIG_INVALID',
      `${file}: set token or tokenCommand, not both`,
    );
  }
  return out;
}

/** Flags beat the environment (GANTRY_URL, GANTRY_TOKEN), which beats the config file. Pure. */
export function resolveClient(
  flags: { url?: string | undefined; token?: string | undefined },
  env: NodeJS.ProcessEnv,
  file: CliConfigFile,
): ResolvedClient {
  const [url, urlFrom]: [string, Source] = flags.url
    ? [flags.url, 'flag']
    : env.GANTRY_URL
      ? [env.GANTRY_URL, 'env']
      : file.url
        ? [file.url, 'file']
        : [DEFAULT_URL, 'default'];
  const token: ResolvedClient['token'] = flags.token
    ? { value: flags.token, from: 'flag' }
    : env.GANTRY_TOKEN
      ? { value: env.GANTRY_TOKEN, from: 'env' }
      : file.token
        ? { value: file.token, from: 'file' }
        : file.tokenCommand
          ? { command: file.tokenCommand, from: 'file' }
          : undefined;
  return { url: url.replace(/\/+$/, ''), urlFrom, token };
}

/** Reads the config file if there is one; warns (never failing) when others may read a token in it. */
export function loadCliConfig(
  file: string,
  warn: (msg: string) => void = (m) => process.stderr.write(`warning: ${m}\n`),
): CliConfigFile {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new GantryError('GANTRY_ERR_CONFIG_INVALID', `cannot read ${file}: ${errorMessage(e)}`);
  }
  const config = parseCliConfig(text, file);
  if (config.token && process.platform !== 'win32' && (statSync(file).mode & 0o077) !== 0) {
    warn(`${file} holds a token and others may read it (chmod 600 ${file})`);
  }
  return config;
}

/** Runs `tokenCommand` (through the shell, as written in the file) and takes its first line. */
export function runTokenCommand(command: string): string {
  let out: string;
  try {
    out = execFileSync('/bin/sh', ['-c', command], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
      timeout: 30_000,
    });
  } catch (e) {
    // The command's own output is not quoted: it could hold the secret.
    const status = (e as { status?: number }).status;
    throw new GantryError(
      'GANTRY_ERR_CONFIG_INVALID',
      `tokenCommand failed${status === undefined ? '' : ` with exit code ${status}`}`,
    );
  }
  const token = out.split(/\r?\n/)[0]?.trim() ?? '';
  if (!token) throw new GantryError('GANTRY_ERR_CONFIG_INVALID', 'tokenCommand printed no token');
  return token;
}
