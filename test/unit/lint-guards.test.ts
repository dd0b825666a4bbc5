/**
 * The lint rule that keeps the pure core (src/rollout/, src/reconcile/heal.ts and status.ts) free
 * of I/O must actually fire: a later block of eslint.config.js once replaced its options and a
 * file in src/rollout/ importing node:fs passed. Each fixture is linted with ESLint's Node API
 * under the path it pretends to have, with the repository's own config.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '../..');
const FIXTURES = join(import.meta.dirname, '../fixtures/lint');

/** The no-restricted-imports messages ESLint gives `fixture` placed at `asPath` (repo-relative). */
async function restrictedImports(fixture: string, asPath: string): Promise<string[]> {
  const eslint = new ESLint({ cwd: ROOT });
  const code = readFileSync(join(FIXTURES, fixture), 'utf8');
  const [result] = await eslint.lintText(code, { filePath: join(ROOT, asPath) });
  if (result === undefined) throw new Error(`no lint result for ${asPath}`);
  const fatal = result.messages.filter((m) => m.fatal === true);
  expect(fatal, 'the fixture must parse').toEqual([]);
  return result.messages
    .filter((m) => m.ruleId === 'no-restricted-imports' && m.severity === 2)
    .map((m) => m.message);
}

describe('the pure core may not import I/O', () => {
  const cases = [
    {
      name: 'node:fs in src/rollout/',
      fixture: 'reads-a-file.ts.fixture',
      as: 'src/rollout/x.ts',
      module: 'node:fs',
    },
    {
      name: 'node:fs in a nested rollout file',
      fixture: 'reads-a-file.ts.fixture',
      as: 'src/rollout/sub/x.ts',
      module: 'node:fs',
    },
    {
      name: 'bare `net` in heal.ts',
      fixture: 'bare-builtin.ts.fixture',
      as: 'src/reconcile/heal.ts',
      module: 'net',
    },
    {
      name: 'the Redis store (a value) in status.ts',
      fixture: 'store-value.ts.fixture',
      as: 'src/reconcile/status.ts',
      module: '../store/store.js',
    },
  ];
  for (const c of cases) {
    it(`rejects ${c.name}`, async () => {
      const messages = await restrictedImports(c.fixture, c.as);
      expect(messages).toHaveLength(1);
      expect(messages[0]).toContain(`'${c.module}'`);
      expect(messages[0]).toMatch(/pure core decides/);
    });
  }

  it('allows type imports and pure siblings', async () => {
    expect(await restrictedImports('pure.ts.fixture', 'src/rollout/x.ts')).toEqual([]);
  });

  it('does not apply outside the pure core', async () => {
    expect(
      await restrictedImports('reads-a-file.ts.fixture', 'src/reconcile/reconciler.ts'),
    ).toEqual([]);
  });
});
