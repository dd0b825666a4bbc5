import { chmod, mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { clientOptions } from '../../src/cli/client.js';
import {
  cliConfigPath,
  loadCliConfig,
  parseCliConfig,
  resolveClient,
  runTokenCommand,
} from '../../src/cli/config.js';

describe('where the CLI finds the controller', () => {
  const file = { url: 'http://file:1', token: 'file-token' };
  const env = { GANTRY_URL: 'http://env:1', GANTRY_TOKEN: 'env-token' };
  it.each([
    [
      'flags beat everything',
      { url: 'http://flag:1/', token: 'flag-token' },
      env,
      file,
      ['http://flag:1', 'flag', 'flag-token', 'flag'],
    ],
    ['the environment beats the file', {}, env, file, ['http://env:1', 'env', 'env-token', 'env']],
    ['the file when nothing else', {}, {}, file, ['http://file:1', 'file', 'file-token', 'file']],
    [
      'defaults without any',
      {},
      {},
      {},
      ['http://127.0.0.1:8700', 'default', undefined, undefined],
    ],
    [
      'each value on its own',
      { token: 'flag-token' },
      { GANTRY_URL: 'http://env:1' },
      file,
      ['http://env:1', 'env', 'flag-token', 'flag'],
    ],
  ] as const)('%s', (_name, flags, e, f, [url, urlFrom, token, tokenFrom]) => {
    const r = resolveClient(flags, e, f);
    expect(r.url).toBe(url);
    expect(r.urlFrom).toBe(urlFrom);
    expect(r.token && 'value' in r.token ? r.token.value : undefined).toBe(token);
    expect(r.token?.from).toBe(tokenFrom);
  });

  it('asks the tokenCommand only when no token was given', () => {
    expect(resolveClient({}, {}, { tokenCommand: 'pass gantry' }).token).toEqual({
      command: 'pass gantry',
      from: 'file',
    });
    expect(resolveClient({}, { GANTRY_TOKEN: 't' }, { tokenCommand: 'pass gantry' }).token).toEqual(
      {
        value: 't',
        from: 'env',
      },
    );
  });

  it.each([
    [
      'GANTRY_CLI_CONFIG',
      { GANTRY_CLI_CONFIG: '/x/cli.yaml', XDG_CONFIG_HOME: '/y' },
      '/x/cli.yaml',
    ],
    ['XDG_CONFIG_HOME', { XDG_CONFIG_HOME: '/y' }, '/y/gantry/cli.yaml'],
    ['home', {}, path.join(os.homedir(), '.config', 'gantry', 'cli.yaml')],
  ])('config file path from %s', (_name, env, expected) => {
    expect(cliConfigPath(env)).toBe(expected);
  });
});

describe('the CLI config file', () => {
  it.each([
    ['empty', '', {}],
    ['url and token', 'url: http://c:8700\ntoken: abc\n', { url: 'http://c:8700', token: 'abc' }],
    ['tokenCommand', 'tokenCommand: echo abc\n', { tokenCommand: 'echo abc' }],
  ])('reads %s', (_name, text, expected) => {
    expect(parseCliConfig(text, 'cli.yaml')).toEqual(expected);
  });

  it.each([
    ['an unknown key', 'url: x\ntokn: y\n', /unknown key "tokn"/],
    ['a list', '- a\n', /expected a mapping/],
    ['a number', 'url: 8700\n', /url must be a non-empty string/],
    ['token and tokenCommand', 'token: a\ntokenCommand: b\n', /not both/],
    ['bad YAML', 'url: [\n', /cli\.yaml/],
  ])('rejects %s', (_name, text, message) => {
    expect(() => parseCliConfig(text, 'cli.yaml')).toThrow(message);
  });

  it('warns when others may read a token, and a missing file is no config', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'gantry-cli-'));
    const file = path.join(dir, 'cli.yaml');
    expect(loadCliConfig(file)).toEqual({});
    await writeFile(file, 'token: secret-value\n');
    await chmod(file, 0o644);
    const warnings: string[] = [];
    expect(loadCliConfig(file, (m) => warnings.push(m))).toEqual({ token: 'secret-value' });
    expect(warnings.join()).toMatch(/others may read it \(chmod 600/);
    expect(warnings.join()).not.toContain('secret-value');
    await chmod(file, 0o600);
    warnings.length = 0;
    loadCliConfig(file, (m) => warnings.push(m));
    expect(warnings).toEqual([]);
  });

  it('clientOptions runs the tokenCommand from the file named by GANTRY_CLI_CONFIG', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'gantry-cli-'));
    const file = path.join(dir, 'cli.yaml');
    await writeFile(file, 'url: http://file:1/\ntokenCommand: printf "from-command\\nignored"\n');
    expect(clientOptions({}, { GANTRY_CLI_CONFIG: file })).toEqual({
      url: 'http://file:1',
      token: 'from-command',
    });
    expect(clientOptions({ token: 'flag' }, { GANTRY_CLI_CONFIG: file }).token).toBe('flag');
  });

  it('a failing tokenCommand says so without quoting its output', () => {
    expect(() => runTokenCommand('echo leaked-secret; exit 3')).toThrow(
      /tokenCommand failed with exit code 3/,
    );
    expect(() => runTokenCommand('echo leaked-secret; exit 3')).not.toThrow(/leaked-secret/);
    expect(() => runTokenCommand('true')).toThrow(/printed no token/);
  });
});
