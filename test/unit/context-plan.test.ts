import { describe, expect, it } from 'vitest';
import {
  ignoreFileFor,
  planBuildContext,
  type ContextInput,
} from '../../src/source/context-plan.js';
import type { TreeEntry } from '../../src/source/git-tree.js';

const OID = 'a'.repeat(40);
const file = (path: string, mode = '100644'): TreeEntry => ({ path, mode, type: 'blob', oid: OID });
const link = (path: string): TreeEntry => ({ path, mode: '120000', type: 'blob', oid: OID });
const dir = (path: string): TreeEntry => ({ path, mode: '040000', type: 'tree', oid: OID });

function plan(entries: TreeEntry[], extra: Partial<ContextInput> = {}) {
  return planBuildContext({
    entries,
    symlinkTargets: new Map(),
    dockerfile: 'Dockerfile',
    ignoreFile: null,
    ...extra,
  });
}

const paths = (p: ReturnType<typeof plan>) => p.items.map((i) => `${i.kind}:${i.path}`);

describe('planBuildContext', () => {
  it('sends every file with its mode, directories first', () => {
    const p = plan([file('Dockerfile'), dir('bin'), file('bin/run', '100755'), file('src/a.ts')]);
    expect(paths(p)).toEqual([
      'file:Dockerfile',
      'dir:bin',
      'file:bin/run',
      'dir:src',
      'file:src/a.ts',
    ]);
    expect(p.items.find((i) => i.path === 'bin/run')).toMatchObject({ mode: 0o755 });
    expect(p.items.find((i) => i.path === 'src/a.ts')).toMatchObject({ mode: 0o644 });
    expect(p).toMatchObject({ files: 3, excluded: 0, notes: [] });
  });

  it('applies .dockerignore with Docker semantics', () => {
    const text = '# comment\n*.log\nsecrets\n!keep.log\n/tmp\n';
    const p = plan(
      [
        file('.dockerignore'),
        file('Dockerfile'),
        file('a.log'),
        file('keep.log'),
        file('sub/b.log'),
        file('secrets/key'),
        file('tmp/x'),
        file('app.js'),
      ],
      { ignoreFile: { path: '.dockerignore', text } },
    );
    // `*.log` is anchored at the context root in Docker (unlike git): sub/b.log stays.
    expect(paths(p).filter((x) => x.startsWith('file:'))).toEqual([
      'file:.dockerignore',
      'file:Dockerfile',
      'file:app.js',
      'file:keep.log',
      'file:sub/b.log',
    ]);
    expect(p.excluded).toBe(3);
  });

  it('always sends the Dockerfile and the ignore file, even when ignored', () => {
    const p = plan([file('.dockerignore'), file('docker/app.Dockerfile'), file('x')], {
      dockerfile: 'docker/app.Dockerfile',
      ignoreFile: { path: '.dockerignore', text: '*\ndocker\n.dockerignore\n' },
    });
    expect(paths(p)).toEqual(['file:.dockerignore', 'dir:docker', 'file:docker/app.Dockerfile']);
    expect(p.excluded).toBe(1);
  });

  it('skips submodules and unsafe names with a note', () => {
    const p = plan([
      file('Dockerfile'),
      { path: 'vendor/lib', mode: '160000', type: 'commit', oid: 'b'.repeat(40) },
      file('x/.git/config'),
      file('x/.git/HEAD'),
    ]);
    expect(paths(p)).toEqual(['file:Dockerfile']);
    expect(p.notes).toEqual([
      expect.stringContaining('submodule "vendor/lib" (bbbbbbbbbbbb)'),
      expect.stringContaining('"x/.git"'),
    ]);
  });

  it('keeps a symlink that stays inside the context', () => {
    const p = plan([file('Dockerfile'), file('conf/app.yaml'), link('app.yaml')], {
      symlinkTargets: new Map([['app.yaml', 'conf/app.yaml']]),
    });
    expect(p.items).toContainEqual({ kind: 'symlink', path: 'app.yaml', target: 'conf/app.yaml' });
    expect(p.files).toBe(3);
  });

  it.each([
    ['a relative escape', '../../secret'],
    ['an absolute target', '/etc/passwd'],
  ])('refuses %s', (_name, target) => {
    expect(() =>
      plan([file('Dockerfile'), link('sub/evil')], {
        symlinkTargets: new Map([['sub/evil', target]]),
      }),
    ).toThrow(
      expect.objectContaining({
        code: 'GANTRY_ERR_PATH_ESCAPE',
        message: expect.stringContaining('"sub/evil"'),
      }),
    );
  });

  it('does not check a symlink that the ignore file leaves out', () => {
    const p = plan([file('Dockerfile'), link('evil')], {
      symlinkTargets: new Map([['evil', '/etc/passwd']]),
      ignoreFile: { path: '.dockerignore', text: 'evil' },
    });
    expect(paths(p)).toEqual(['file:Dockerfile']);
    expect(p.excluded).toBe(1);
  });
});

describe('ignoreFileFor', () => {
  it.each([
    ['Dockerfile', ['.dockerignore'], '.dockerignore'],
    ['Dockerfile', ['.dockerignore', 'Dockerfile.dockerignore'], 'Dockerfile.dockerignore'],
    ['ops/app.Dockerfile', ['ops/app.Dockerfile.dockerignore'], 'ops/app.Dockerfile.dockerignore'],
    ['Dockerfile', [], null],
  ])('%s with %j → %s', (dockerfile, present, expected) => {
    expect(ignoreFileFor(dockerfile, new Set(present))).toBe(expected);
  });
});
