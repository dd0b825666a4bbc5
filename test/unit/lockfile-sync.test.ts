/**
 * Reproducible installs (issue 14, item 14): `npm ci` on a fresh clone must work, and
 * scripts/setup.sh uses `npm ci` only. The check runs npm's own sync rule (`npm ci --dry-run`)
 * offline, on copies of package.json and package-lock.json in a scratch directory, so it never
 * touches this tree's node_modules.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '../..');

/** `npm ci --dry-run --offline` on scratch copies of package.json and package-lock.json. */
function npmCiDryRun(): {
  status: number | null;
  out: string;
} {
  const dir = mkdtempSync(join(tmpdir(), 'gantry-lock-'));
  try {
    for (const f of ['package.json', 'package-lock.json'])
      copyFileSync(join(ROOT, f), join(dir, f));
    const r = spawnSync(
      'npm',
      ['ci', '--dry-run', '--offline', '--ignore-scripts', '--no-audit', '--no-fund'],
      { cwd: dir, encoding: 'utf8', timeout: 60_000 },
    );
    return { status: r.status, out: `${r.stdout}${r.stderr}` };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

type Json = Record<string, unknown>;
const readJson = (rel: string): Json => JSON.parse(readFileSync(join(ROOT, rel), 'utf8')) as Json;

/** Where the lock's root entry (what npm ci compares) disagrees with package.json. */
function lockRootMismatches(pkg: Json, lock: Json): string[] {
  const root = ((lock['packages'] as Record<string, Json> | undefined)?.[''] ?? {}) as Json;
  const out: string[] = [];
  for (const field of ['dependencies', 'devDependencies', 'optionalDependencies']) {
    const want = (pkg[field] ?? {}) as Record<string, string>;
    const have = (root[field] ?? {}) as Record<string, string>;
    for (const name of new Set([...Object.keys(want), ...Object.keys(have)])) {
      if (want[name] !== have[name]) {
        out.push(
          `${field}.${name}: package.json says ${JSON.stringify(want[name])}, the lock ${JSON.stringify(have[name])}`,
        );
      }
    }
  }
  return out;
}

describe('reproducible installs', () => {
  it('package-lock.json is in sync with package.json (npm ci accepts it)', () => {
    const r = npmCiDryRun();
    expect(r.out).not.toMatch(/EUSAGE/);
    expect(r.status).toBe(0);
  });

  it('the lock records exactly the ranges package.json declares', () => {
    const pkg = readJson('package.json');
    expect(lockRootMismatches(pkg, readJson('package-lock.json'))).toEqual([]);
  });

  it('a range changed in package.json alone is caught', () => {
    const pkg = readJson('package.json');
    const deps = { ...(pkg['dependencies'] as Record<string, string>), yaml: '^1.0.0' };
    const found = lockRootMismatches({ ...pkg, dependencies: deps }, readJson('package-lock.json'));
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(/^dependencies\.yaml: package\.json says "\^1\.0\.0", the lock "/);
  });

  it('setup installs with npm ci only, never npm install', () => {
    const setup = readFileSync(join(ROOT, 'scripts/setup.sh'), 'utf8');
    const commands = setup
      .split('\n')
      .filter((l) => !l.trimStart().startsWith('#'))
      .join('\n');
    expect(commands).toMatch(/npm ci --no-audit --no-fund/);
    expect(commands).not.toMatch(/^\s*npm install\b/m);
    expect(commands).not.toMatch(/\|\|\s*npm install\b/);
  });
});
