import { describe, expect, it } from 'vitest';
import { parseAppSpec } from '../../src/config/app-spec.js';
import { rangeBases, type PushChange } from '../../src/source/push-range.js';
import { appVerdict, isWatched, watchedPaths } from '../../src/source/watch-paths.js';

/** The watched set of an app in folder `appPath` whose gantry.yaml has `extra` lines. */
function watched(appPath: string, extra = '') {
  const file = appPath === '.' ? 'gantry.yaml' : `${appPath}/gantry.yaml`;
  return watchedPaths(parseAppSpec(`app: x\n${extra}`, file), appPath);
}

const cases: Array<{
  name: string;
  appPath: string;
  spec?: string;
  yes: string[];
  no: string[];
}> = [
  {
    name: 'default: the app folder and everything under it',
    appPath: 'api',
    yes: ['api/index.html', 'api/src/deep/main.go', 'api/gantry.yaml', 'api/Dockerfile'],
    no: ['web/index.html', 'apiary/x', 'README.md'],
  },
  {
    name: 'default at the repository root: everything',
    appPath: '.',
    yes: ['README.md', 'a/b/c'],
    no: [],
  },
  {
    name: 'default: a build context outside the folder is watched too',
    appPath: 'services/api',
    spec: 'build: { context: ../.., dockerfile: services/api/Dockerfile }',
    yes: ['services/api/main.go', 'libs/shared.go', 'go.mod'],
    no: [],
  },
  {
    name: 'default: a sibling build context, not the rest of the repo',
    appPath: 'services/api',
    spec: 'build: { context: ../shared, dockerfile: api.Dockerfile }',
    yes: ['services/api/main.go', 'services/shared/lib.go', 'services/shared/api.Dockerfile'],
    no: ['services/web/main.go', 'go.mod'],
  },
  {
    name: 'explicit prefixes replace the default; gantry.yaml and Dockerfile always count',
    appPath: 'api',
    spec: 'watch: [src, ../proto/api.proto]',
    yes: ['api/src/main.go', 'proto/api.proto', 'api/gantry.yaml', 'api/Dockerfile'],
    no: ['api/README.md', 'proto/web.proto', 'api/srcs/x'],
  },
  {
    name: 'globs: * within a name, ** across folders, ? one character',
    appPath: 'api',
    spec: "watch: ['**/*.go', '../libs/*/go.mod', 'v?.txt']",
    yes: ['api/main.go', 'api/a/b/c.go', 'libs/net/go.mod', 'api/v1.txt'],
    no: ['api/main.rs', 'libs/net/sub/go.mod', 'api/v10.txt', 'web/main.go'],
  },
  {
    name: 'a glob matching a folder covers what is under it',
    appPath: 'api',
    spec: "watch: ['cmd/*']",
    yes: ['api/cmd/server/main.go', 'api/cmd/x'],
    no: ['api/cmd', 'api/internal/x'],
  },
  {
    name: '! leaves paths out, whatever order',
    appPath: 'api',
    spec: "watch: ['!docs/**', ., '!*.md']",
    yes: ['api/main.go', 'api/gantry.yaml'],
    no: ['api/docs/guide.txt', 'api/README.md'],
  },
  {
    name: 'an excluded Dockerfile still counts: it defines the build',
    appPath: 'api',
    spec: "watch: [., '!Dockerfile']",
    yes: ['api/Dockerfile'],
    no: [],
  },
];

describe('watched paths', () => {
  for (const c of cases) {
    it(c.name, () => {
      const w = watched(c.appPath, c.spec);
      for (const p of c.yes) expect(isWatched(w, p), `${p} should be watched`).toBe(true);
      for (const p of c.no) expect(isWatched(w, p), `${p} should not be watched`).toBe(false);
    });
  }

  it('refuses a watch path that climbs out of the repository, with its position', () => {
    expect(() => parseAppSpec('app: x\nwatch: [., ../../up]\n', 'api/gantry.yaml')).toThrow(
      /api\/gantry\.yaml:2:\d+: watch\[1\] must stay inside the repository/,
    );
  });

  it('keeps watch entries normalized and relative to the spec folder', () => {
    const spec = parseAppSpec("app: x\nwatch: ['./src/../lib', '!./docs']\n", 'api/gantry.yaml');
    expect(spec.watch).toEqual(['lib', '!docs']);
    expect(parseAppSpec('app: x\n').watch).toBeUndefined();
  });
});

const A = 'a'.repeat(40);
const B = 'b'.repeat(40);
const C = 'c'.repeat(40);
const ZERO = '0'.repeat(40);

describe('which earlier heads a sync diffs against', () => {
  const table: Array<
    [string, string | undefined, string | undefined, ReturnType<typeof rangeBases>]
  > = [
    [
      'a new branch builds everything',
      ZERO,
      A,
      { kind: 'all', reason: expect.stringContaining('new') },
    ],
    [
      'no earlier head at all builds everything',
      undefined,
      undefined,
      { kind: 'all', reason: expect.stringContaining('first sync') },
    ],
    ['a poll diffs from the last head synced', undefined, A, { kind: 'bases', bases: [A] }],
    [
      'a webhook on a fresh controller diffs from before',
      A,
      undefined,
      { kind: 'bases', bases: [A] },
    ],
    ['before and the last head agree: one base', A, A, { kind: 'bases', bases: [A] }],
    [
      'a coalesced push: both bases, so nothing between them is missed',
      B,
      A,
      { kind: 'bases', bases: [B, A] },
    ],
  ];
  for (const [name, before, last, want] of table) {
    it(name, () => expect(rangeBases(before, last)).toEqual(want));
  }
});

describe('whether an app builds', () => {
  const w = watched('web');
  const paths = (...p: string[]): PushChange => ({ kind: 'paths', bases: [A], head: C, paths: p });
  it('builds everything when the change is unknown', () => {
    expect(appVerdict(w, { kind: 'all', reason: 'force-push' }, true)).toEqual({
      build: true,
      why: 'force-push',
    });
  });
  it('builds an app without a revision on the branch yet', () => {
    expect(appVerdict(w, paths('api/x'), false).build).toBe(true);
  });
  it('builds when a watched path changed, naming it', () => {
    expect(appVerdict(w, paths('api/x', 'web/index.html'), true)).toEqual({
      build: true,
      why: 'web/index.html changed',
    });
  });
  it('skips with a reason naming the range and what it watches', () => {
    expect(appVerdict(w, paths('api/x', 'api/y'), true)).toEqual({
      build: false,
      reason: `no watched path changed in ${A.slice(0, 12)}..${C.slice(0, 12)} (watches web; 2 other paths changed)`,
    });
  });
});
