import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { appSpecJsonSchema, parseAppSpec, type AppSpec } from '../../src/config/app-spec.js';
import { GantryError } from '../../src/errors.js';

function failure(text: string, file?: string): GantryError {
  try {
    parseAppSpec(text, file);
  } catch (e) {
    if (e instanceof GantryError) return e;
    throw e;
  }
  throw new Error('expected the spec to be rejected');
}

const DEFAULTS: AppSpec = {
  app: 'hello',
  build: { context: '.', dockerfile: 'Dockerfile', target: undefined, args: {} },
  run: {
    port: 8080,
    replicas: 1,
    env: {},
    secrets: [],
    resources: { cpu: undefined, memoryBytes: undefined },
  },
  health: {
    check: { kind: 'http', path: '/', expect: 200 },
    intervalMs: 2000,
    timeoutMs: 1000,
    startPeriodMs: 10_000,
    healthyThreshold: 2,
    unhealthyThreshold: 3,
  },
  rollout: {
    maxSurge: 1,
    maxUnavailable: 0,
    progressDeadlineMs: 120_000,
    bakeMs: 0,
    autoRollback: true,
  },
  selfHeal: true,
  environments: { production: { branch: 'main', target: 'local', domain: undefined, domains: [] } },
  overrides: {},
};

const FULL = `
app: hello
build: { dockerfile: docker/Dockerfile, context: ., target: optional-stage, args: { GO_VERSION: "1.22" } }
run:
  port: 3000
  replicas: 3
  env: { LOG_LEVEL: info }
  secrets: [DATABASE_URL]    # names only
  resources: { cpu: 0.5, memory: 256Mi }
health:
  http: { path: /healthz, expect: 204 }
  interval: 500ms
  timeout: 1s
  startPeriod: 1m30s
  healthyThreshold: 1
  unhealthyThreshold: 5
rollout: { maxSurge: 2, maxUnavailable: 1, progressDeadline: 5m, bake: 30s, autoRollback: false }
selfHeal: true
environments:
  production: { branch: main, target: local, domain: hello.localhost }
  staging: { branch: release/next }
`;

describe('parseAppSpec: valid specs', () => {
  it.each<{ name: string; text: string; file?: string; spec: AppSpec }>([
    { name: 'minimal file gets every default', text: 'app: hello\n', spec: DEFAULTS },
    {
      name: 'full example gives typed values',
      text: FULL,
      spec: {
        app: 'hello',
        build: {
          context: '.',
          dockerfile: 'docker/Dockerfile',
          target: 'optional-stage',
          args: { GO_VERSION: '1.22' },
        },
        run: {
          port: 3000,
          replicas: 3,
          env: { LOG_LEVEL: 'info' },
          secrets: ['DATABASE_URL'],
          resources: { cpu: 0.5, memoryBytes: 256 * 2 ** 20 },
        },
        health: {
          check: { kind: 'http', path: '/healthz', expect: 204 },
          intervalMs: 500,
          timeoutMs: 1000,
          startPeriodMs: 90_000,
          healthyThreshold: 1,
          unhealthyThreshold: 5,
        },
        rollout: {
          maxSurge: 2,
          maxUnavailable: 1,
          progressDeadlineMs: 300_000,
          bakeMs: 30_000,
          autoRollback: false,
        },
        selfHeal: true,
        environments: {
          production: {
            branch: 'main',
            target: 'local',
            domain: 'hello.localhost',
            domains: ['hello.localhost'],
          },
          staging: { branch: 'release/next', target: 'local', domain: undefined, domains: [] },
        },
        overrides: {},
      },
    },
    {
      name: 'http check with defaults inside',
      text: 'app: hello\nhealth: { http: {} }\n',
      spec: DEFAULTS,
    },
    {
      name: 'tcp check',
      text: 'app: hello\nhealth: { tcp: {} }\n',
      spec: { ...DEFAULTS, health: { ...DEFAULTS.health, check: { kind: 'tcp' } } },
    },
    {
      name: 'exec check',
      text: 'app: hello\nhealth:\n  exec: [pg_isready, -q]\n',
      spec: {
        ...DEFAULTS,
        health: { ...DEFAULTS.health, check: { kind: 'exec', command: ['pg_isready', '-q'] } },
      },
    },
    {
      name: 'paths are normalized',
      text: 'app: hello\nbuild: { context: ./web/../api/, dockerfile: ./ops//../Dockerfile }\n',
      spec: { ...DEFAULTS, build: { ...DEFAULTS.build, context: 'api', dockerfile: 'Dockerfile' } },
    },
    {
      name: 'context is resolved from the spec directory and may climb within the repository',
      text: 'app: hello\nbuild: { context: ../shared }\n',
      file: 'services/api/gantry.yaml',
      spec: { ...DEFAULTS, build: { ...DEFAULTS.build, context: '../shared' } },
    },
    {
      name: 'context of a spec in a subdirectory stays relative to that directory',
      text: 'app: hello\nbuild: { context: ./web/../../api/src }\n',
      file: 'services/api/gantry.yaml',
      spec: { ...DEFAULTS, build: { ...DEFAULTS.build, context: 'src' } },
    },
    {
      name: 'context may climb to the repository root',
      text: 'app: hello\nbuild: { context: ../.. }\n',
      file: 'services/api/gantry.yaml',
      spec: { ...DEFAULTS, build: { ...DEFAULTS.build, context: '../..' } },
    },
    {
      name: 'explicit environments replace the default one',
      text: 'app: hello\nenvironments:\n  staging: { branch: develop, target: edge-1 }\n',
      spec: {
        ...DEFAULTS,
        selfHeal: true,
        environments: {
          staging: { branch: 'develop', target: 'edge-1', domain: undefined, domains: [] },
        },
      },
    },
    {
      name: 'zero replicas',
      text: 'app: hello\nrun: { replicas: 0 }\n',
      spec: { ...DEFAULTS, run: { ...DEFAULTS.run, replicas: 0 } },
    },
  ])('$name', ({ text, file, spec }) => {
    expect(parseAppSpec(text, file)).toEqual(spec);
  });
});

describe('parseAppSpec: every error names file, line and column', () => {
  it.each<{ name: string; text: string; file?: string; message: string }>([
    {
      name: 'unknown top-level key, with a suggestion',
      text: 'app: hello\nbuidl: {}\n',
      message: 'gantry.yaml:2:1: buidl is not a known key; did you mean build?',
    },
    {
      name: 'unknown nested key, pointing at the key',
      text: 'app: hello\nrun:\n  replicas: 2\n  cpus: 1\n',
      message:
        'gantry.yaml:4:3: run.cpus is not a known key; expected one of port, replicas, env, secrets, resources',
    },
    {
      name: 'missing app points at the parent mapping',
      text: 'run:\n  port: 80\n',
      message: 'gantry.yaml:1:1: the document is missing app',
    },
    {
      name: 'missing branch points at the environment',
      text: 'app: hello\nenvironments:\n  staging: { target: local }\n',
      message: 'gantry.yaml:3:12: environments.staging is missing branch',
    },
    {
      name: 'wrong type',
      text: 'app: hello\nrun:\n  replicas: three\n',
      message: 'gantry.yaml:3:13: run.replicas must be an integer from 0 to 10000 (got "three")',
    },
    {
      name: 'negative number',
      text: 'app: hello\nrun:\n  replicas: -1\n',
      message: 'gantry.yaml:3:13: run.replicas must be an integer from 0 to 10000 (got -1)',
    },
    {
      name: 'port out of range',
      text: 'app: hello\nrun: { port: 70000 }\n',
      message: 'gantry.yaml:2:14: run.port must be an integer from 1 to 65535 (got 70000)',
    },
    {
      name: 'section that is not a mapping',
      text: 'app: hello\nrun: [1]\n',
      message: 'gantry.yaml:2:6: run must be a mapping (got a list)',
    },
    {
      name: 'empty section points at its key',
      text: 'app: hello\nhealth:\n',
      message: 'gantry.yaml:2:1: health must be a mapping (got an empty value)',
    },
    {
      name: 'bad app name',
      text: 'app: Hello_World\n',
      message:
        'gantry.yaml:1:6: app must be lowercase letters, digits and single "-" (no "--"), start with a letter, not end with "-", at most 63 characters (got "Hello_World")',
    },
    {
      name: 'bad environment name',
      text: 'app: hello\nenvironments:\n  Prod: { branch: main }\n',
      message:
        'gantry.yaml:3:3: environments key "Prod" is not valid: must be lowercase letters, digits and single "-" (no "--"), start with a letter, not end with "-", at most 63 characters',
    },
    {
      name: 'bad env variable name',
      text: 'app: hello\nrun:\n  env:\n    LOG-LEVEL: info\n',
      message:
        'gantry.yaml:4:5: run.env key "LOG-LEVEL" is not valid: must be letters, digits and "_", not starting with a digit',
    },
    {
      name: 'env value that is not a string',
      text: 'app: hello\nrun:\n  env: { PORT: 8080 }\n',
      message:
        'gantry.yaml:3:16: run.env.PORT must be a string; quote numbers and booleans, as in "8080" or "true" (got 8080)',
    },
    {
      name: 'bad secret name',
      text: 'app: hello\nrun:\n  secrets: [DATABASE_URL, 2FA_KEY]\n',
      message:
        'gantry.yaml:3:27: run.secrets[1] must be letters, digits and "_", not starting with a digit (got "2FA_KEY")',
    },
    {
      name: 'repeated secret',
      text: 'app: hello\nrun:\n  secrets:\n    - A\n    - B\n    - A\n',
      message: 'gantry.yaml:6:7: run.secrets[2] repeats run.secrets[0]',
    },
    {
      name: 'secret also set as a plain variable',
      text: 'app: hello\nrun:\n  env: { TOKEN: x }\n  secrets: [TOKEN]\n',
      message:
        'gantry.yaml:4:13: run.secrets[0] is also set in run.env; a variable comes from one or the other',
    },
    {
      name: 'bad duration',
      text: 'app: hello\nhealth:\n  interval: 2 seconds\n',
      message:
        'gantry.yaml:3:13: health.interval must be a duration like 500ms, 2s, 5m or 1m30s (got "2 seconds")',
    },
    {
      name: 'duration without a unit',
      text: 'app: hello\nrollout: { bake: 30 }\n',
      message:
        'gantry.yaml:2:18: rollout.bake must be a duration like 500ms, 2s, 5m or 1m30s (got 30)',
    },
    {
      name: 'zero interval',
      text: 'app: hello\nhealth: { interval: 0s }\n',
      message: 'gantry.yaml:2:21: health.interval must be longer than 0s',
    },
    {
      name: 'bad memory (Docker-style lowercase unit)',
      text: 'app: hello\nrun:\n  resources: { memory: 512m }\n',
      message:
        'gantry.yaml:3:24: run.resources.memory must be a size like 256Mi, 1Gi or 512M (got "512m")',
    },
    {
      name: 'memory below what Docker accepts',
      text: 'app: hello\nrun:\n  resources: { memory: 4Mi }\n',
      message:
        'gantry.yaml:3:24: run.resources.memory must be at least 6Mi (the smallest limit Docker accepts)',
    },
    {
      name: 'zero cpu',
      text: 'app: hello\nrun:\n  resources: { cpu: 0 }\n',
      message: 'gantry.yaml:3:21: run.resources.cpu must be a number > 0 (got 0)',
    },
    {
      name: 'bad branch name',
      text: 'app: hello\nenvironments:\n  production:\n    branch: feature..x\n',
      message: 'gantry.yaml:4:13: environments.production.branch must not contain ".."',
    },
    {
      name: 'branch name with a space',
      text: 'app: hello\nenvironments:\n  production: { branch: "my branch" }\n',
      message: 'gantry.yaml:3:25: environments.production.branch must not contain spaces',
    },
    {
      name: 'branch given as a full ref',
      text: 'app: hello\nenvironments:\n  production: { branch: refs/heads/main }\n',
      message:
        'gantry.yaml:3:25: environments.production.branch must be a branch name, not a full ref (drop "refs/heads/")',
    },
    {
      name: 'context escaping the repository via ../x',
      text: 'app: hello\nbuild:\n  context: ../x\n',
      message:
        'gantry.yaml:3:12: build.context must stay inside the repository ("../x" climbs out of it)',
    },
    {
      name: 'context escaping from a subdirectory spec',
      text: 'app: hello\nbuild:\n  context: ../../../x\n',
      file: 'services/api/gantry.yaml',
      message:
        'services/api/gantry.yaml:3:12: build.context must stay inside the repository ("../../../x" climbs out of it)',
    },
    {
      name: 'absolute context',
      text: 'app: hello\nbuild:\n  context: /etc\n',
      message: 'gantry.yaml:3:12: build.context must be a relative path inside the repository',
    },
    {
      name: 'dockerfile escaping the context',
      text: 'app: hello\nbuild: { context: app, dockerfile: ../Dockerfile }\n',
      message:
        'gantry.yaml:2:36: build.dockerfile must stay inside the build context ("../Dockerfile" climbs out of it)',
    },
    {
      name: 'absolute dockerfile',
      text: 'app: hello\nbuild: { dockerfile: /Dockerfile }\n',
      message:
        'gantry.yaml:2:22: build.dockerfile must be a relative path inside the build context',
    },
    {
      name: 'backslash in a path',
      text: 'app: hello\nbuild: { dockerfile: "docker\\\\Dockerfile" }\n',
      message: 'gantry.yaml:2:22: build.dockerfile must use "/" as separator, not "\\"',
    },
    {
      name: 'NUL in a path',
      text: 'app: hello\nbuild: { context: "a\\0b" }\n',
      message: 'gantry.yaml:2:19: build.context must not contain control characters',
    },
    {
      name: 'two health kinds',
      text: 'app: hello\nhealth:\n  http: { path: /healthz }\n  tcp: {}\n',
      message: 'gantry.yaml:3:3: health must set only one of http, tcp and exec',
    },
    {
      name: 'tcp written without a mapping',
      text: 'app: hello\nhealth:\n  tcp:\n',
      message:
        'gantry.yaml:3:3: health.tcp must be an empty mapping: write `tcp: {}` (got an empty value)',
    },
    {
      name: 'rollout that could never progress',
      text: 'app: hello\nrollout:\n  maxSurge: 0\n',
      message:
        'gantry.yaml:3:13: rollout.maxSurge must be at least 1 when rollout.maxUnavailable is 0',
    },
    {
      name: 'no environments at all',
      text: 'app: hello\nenvironments: {}\n',
      message: 'gantry.yaml:2:15: environments must be a non-empty mapping (got an empty mapping)',
    },
    {
      name: 'duplicate key',
      text: 'app: hello\nrun:\n  port: 80\n  port: 81\n',
      message: 'gantry.yaml:4:3: duplicate key run.port (first defined at 3:3)',
    },
    {
      name: 'alias bomb',
      text: [
        'app: hello',
        'x: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]',
        'y: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]',
        'z: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]',
      ].join('\n'),
      message:
        'gantry.yaml:3:8: YAML aliases (*a) are not allowed (found 18); write the value out in full',
    },
    {
      name: 'multiple documents',
      text: 'app: hello\n---\napp: other\n',
      message:
        'gantry.yaml:2:1: a second YAML document starts here; the file must hold exactly one',
    },
    {
      name: 'syntax error: misaligned key',
      text: 'app: hello\nrun:\n  port: 80\n replicas: 2\n',
      message: 'gantry.yaml:4:1: All mapping items must start at the same column',
    },
    {
      name: 'syntax error: two keys on one line',
      text: 'app: hello\nrun: port: 80\n',
      message: 'gantry.yaml:2:6: Nested mappings are not allowed in compact mappings',
    },
    {
      name: 'syntax error: stray closing brace',
      text: 'app: hello\nrun: {port: 80}}\n',
      message: 'gantry.yaml:2:16: Unexpected flow-map-end token in YAML stream: "}"',
    },
    {
      name: 'too large',
      text: `app: hello\n#${'x'.repeat(256 * 1024)}\n`,
      message: `gantry.yaml:1:1: the file is ${256 * 1024 + 13} bytes; the limit is 262144`,
    },
    {
      name: 'empty file',
      text: '# just a comment\n',
      message: 'gantry.yaml:1:1: the file is empty; it needs at least "app: <name>"',
    },
    {
      name: 'every problem at once, in source order',
      text: 'app: hello\nrun:\n  replicas: x\n  prot: 80\nenvironments:\n  production: { branch: -main }\n',
      message: [
        'gantry.yaml:3:13: run.replicas must be an integer from 0 to 10000 (got "x")',
        'gantry.yaml:4:3: run.prot is not a known key; did you mean port?',
        'gantry.yaml:6:25: environments.production.branch must not start with "-"',
      ].join('\n'),
    },
  ])('$name', ({ text, file, message }) => {
    const error = failure(text, file);
    expect(error.message).toBe(message);
    expect(error.code).toBe('GANTRY_ERR_SPEC_INVALID');
  });

  it('carries every problem in details', () => {
    const error = failure('app: hello\nrun:\n  replicas: x\n  prot: 80\n', 'svc/gantry.yaml');
    expect(error.details).toEqual({
      file: 'svc/gantry.yaml',
      errors: [
        {
          line: 3,
          col: 13,
          path: 'run.replicas',
          message: 'run.replicas must be an integer from 0 to 10000 (got "x")',
        },
        {
          line: 4,
          col: 3,
          path: 'run.prot',
          message: 'run.prot is not a known key; did you mean port?',
        },
      ],
    });
  });
});

describe('appSpecJsonSchema', () => {
  it('is what schema/gantry.schema.json holds (regenerate: npx tsx scripts/write-schema.ts)', () => {
    const published: unknown = JSON.parse(
      readFileSync(new URL('../../schema/gantry.schema.json', import.meta.url), 'utf8'),
    );
    // Compared as data; formatting is prettier's business (`npm run lint` checks it).
    expect(published).toEqual(JSON.parse(JSON.stringify(appSpecJsonSchema)));
  });

  it('describes every property, so editors can show help on hover', () => {
    const undocumented: string[] = [];
    const visit = (node: unknown, where: string): void => {
      if (typeof node !== 'object' || node === null) return;
      const props = (node as { properties?: Record<string, unknown> }).properties ?? {};
      for (const [name, child] of Object.entries(props)) {
        if (typeof (child as { description?: unknown }).description !== 'string')
          undocumented.push(`${where}${name}`);
        visit(child, `${where}${name}.`);
      }
      visit((node as { additionalProperties?: unknown }).additionalProperties, `${where}*.`);
    };
    visit(appSpecJsonSchema, '');
    expect(undocumented).toEqual([]);
  });
});
