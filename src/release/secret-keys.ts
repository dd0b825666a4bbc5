/**
 * The controller's secrets key: read from a file (default `<dataDir>/secrets.key`, made with mode
 * 0600 on first start) or from an environment variable, plus previous keys kept while a rotation
 * re-seals what they sealed. The key itself is never logged or shown; its id is.
 */
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { GantryError, errorMessage } from '../errors.js';
import { SecretBox, newKeyText, parseKey } from './secret-box.js';

export interface SecretsConfig {
  /** A file holding the key (64 hex digits or base64). */
  keyFile?: string | undefined;
  /** An environment variable holding the key; wins over keyFile when set. */
  keyEnv?: string | undefined;
  /** Files of keys used before a rotation: they only open, never seal. */
  previousKeyFiles?: string[] | undefined;
}

/** The box sealing and opening secrets with the configured key; makes the default key file if absent. */
export async function loadSecretBox(cfg: SecretsConfig, dataDir: string): Promise<SecretBox> {
  const previous = await Promise.all(
    (cfg.previousKeyFiles ?? []).map(async (f) => parseKey(await readKeyFile(f), f)),
  );
  if (cfg.keyEnv) {
    const text = process.env[cfg.keyEnv];
    if (text === undefined || text.trim() === '') {
      throw new GantryError(
        'GANTRY_ERR_CONFIG_INVALID',
        `secrets.keyEnv: ${cfg.keyEnv} is not set`,
      );
    }
    return new SecretBox(parseKey(text, cfg.keyEnv), previous);
  }
  const file = cfg.keyFile ?? join(dataDir, 'secrets.key');
  let text = await readFile(file, 'utf8').catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return undefined;
    throw new GantryError(
      'GANTRY_ERR_CONFIG_INVALID',
      `secrets.keyFile ${file}: ${errorMessage(e)}`,
    );
  });
  if (text === undefined) {
    if (cfg.keyFile) {
      throw new GantryError('GANTRY_ERR_CONFIG_INVALID', `secrets.keyFile ${file} does not exist`);
    }
    // First start with the default: make a key only this user can read. Back it up with the data.
    await mkdir(dirname(file), { recursive: true });
    text = newKeyText();
    await writeFile(file, `${text}\n`, { mode: 0o600, flag: 'wx' }).catch(
      async (e: NodeJS.ErrnoException) => {
        // Another controller on the same data dir made it first: use theirs.
        if (e.code !== 'EEXIST') throw e;
        text = await readFile(file, 'utf8');
      },
    );
    await chmod(file, 0o600);
  }
  return new SecretBox(parseKey(text, file), previous);
}

async function readKeyFile(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (e) {
    throw new GantryError(
      'GANTRY_ERR_CONFIG_INVALID',
      `secrets key file ${file}: ${errorMessage(e)}`,
    );
  }
}
