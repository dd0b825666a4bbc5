/**
 * Reproducible installs (issue 14, item 14): `npm ci` on a fresh clone must work, and
 * scripts/setup.sh uses `npm ci` only. The check runs npm's own sync rule (`npm ci --dry-run`)
 * offline, on copies of package.json and package-lock.json in a scratch directory, so it never
 * touches this tree's node_modules.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '../..');

/** `npm ci --dry-run --offline` in a scratch copy; `edit` may change the copied package.json. */
function npmCiDryRun(edit?: (pkg: Record<string, unknown>) => void): {
  status: number | null;
  out: string;
} {
  const dir = mkdtempSync(join(tmpdir(), 'gantry-lock-'));
  try {
    copyFileSync(join(ROOT, 'package-lock.json'), join(dir, 'package-lock.json'));
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    edit?.(pkg);
    writeFileSync(join(dir, 'package.json'), JSON.stringify(pkg, null, 2));
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

describe('reproducible installs', () => {
  it('package-lock.json is in sync with package.json (npm ci accepts it)', () => {
    const r = npmCiDryRun();
    expect(r.out).not.toMatch(/EUSAGE/);
    expect(r.status).toBe(0);
  });

  it('the check catches package.json and the lock disagreeing', () => {
    // A new direct dependency the lock does not declare at its root. `ms` is already in the
    // lock as a transitive package, so npm decides offline, from its cache, without the registry.
    const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { version?: string }>;
    };
    const ms = lock.packages['node_modules/ms']?.version ?? '2.1.3';
    const r = npmCiDryRun((pkg) => {
      pkg['dependencies'] = { ...(pkg['dependencies'] as object), ms };
    });
    expect(r.status).not.toBe(0);
    expect(r.out).toMatch(/EUSAGE|in sync/);
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
