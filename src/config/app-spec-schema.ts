/**
 * The JSON Schema of `gantry.yaml`: validation and defaults for the controller, autocomplete and
 * hover docs for editors (published as `schema/gantry.schema.json` by `scripts/write-schema.ts`).
 * Draft-07 because it is what editor YAML/JSON plugins support best. `errorMessage` and
 * `patternErrorMessage` are the VS Code annotations for friendlier messages; Gantry's own messages
 * use them too, so the editor and the controller say the same thing.
 *
 * Rules a schema cannot say well (paths that climb out of the repository, git branch-name rules,
 * cross-field constraints) live in `app-spec-rules.ts`.
 */
import { DURATION_PATTERN, MEMORY_PATTERN } from './units.js';

/** Where the published schema claims to live; editors match on the URL in a `$schema` modeline. */
export const APP_SPEC_SCHEMA_ID = 'https://gantry.dev/schema/gantry.schema.json';

/** Health check used when the spec names none: HTTP GET on the app port. */
export const DEFAULT_HTTP_CHECK = { path: '/', expect: 200 } as const;

// A DNS label that is also a valid Docker repository path component (so no trailing "-").
const NAME_PATTERN = '^[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?$';
const NAME_RULE =
  'must be lowercase letters, digits and "-", start with a letter, not end with "-", at most 63 characters';
// App and environment names also never hold "--": it joins them in derived names (env-names.ts).
const APP_NAME_PATTERN = '^(?!.*--)[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?$';
const APP_NAME_RULE =
  'must be lowercase letters, digits and single "-" (no "--"), start with a letter, not end with "-", at most 63 characters';
const VAR_PATTERN = '^[A-Za-z_][A-Za-z0-9_]*$';
const VAR_RULE = 'must be letters, digits and "_", not starting with a digit';
/** Process type names: short, so they fit in container, pod and ReplicaSet names. */
export const PROCESS_NAME_PATTERN = '^[a-z][a-z0-9]{0,19}$';
const PROCESS_NAME_RULE =
  'must be lowercase letters and digits, start with a letter, at most 20 characters';
/** Process type names as mapping keys. */
const PROCESS_NAMES = {
  type: 'string',
  pattern: PROCESS_NAME_PATTERN,
  patternErrorMessage: PROCESS_NAME_RULE,
} as const;
/** The most process types one app may declare. */
export const MAX_PROCESSES = 20;
const HOSTNAME_PATTERN =
  '^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$';

const duration = (description: string, fallback: string) =>
  ({
    type: 'string',
    description: `${description} A duration like 500ms, 2s, 5m or 1m30s.`,
    pattern: DURATION_PATTERN,
    patternErrorMessage: 'must be a duration like 500ms, 2s, 5m or 1m30s',
    default: fallback,
  }) as const;

const variables = (description: string) =>
  ({
    type: 'object',
    description,
    default: {},
    propertyNames: { type: 'string', pattern: VAR_PATTERN, patternErrorMessage: VAR_RULE },
    additionalProperties: {
      type: 'string',
      errorMessage: 'must be a string; quote numbers and booleans, as in "8080" or "true"',
    },
  }) as const;

/**
 * The largest `run.replicas` and `rollout.maxSurge` any spec or controller may name: it bounds
 * what one rollout decision handles on the controller's event loop. Each controller caps lower
 * (deploy.maxReplicas and deploy.maxSurge in its config, 200 and 50 by default; spec-limits.ts).
 */
export const REPLICAS_CEILING = 10_000;

const REPLICAS = {
  type: 'integer',
  description: `How many instances run in each environment. At most ${REPLICAS_CEILING}, and at most what the controller allows (deploy.maxReplicas in its config, 200 by default).`,
  minimum: 0,
  maximum: REPLICAS_CEILING,
  default: 1,
} as const;

const RESOURCES = {
  type: 'object',
  description: 'Limits per instance; none by default.',
  additionalProperties: false,
  default: {},
  properties: {
    cpu: {
      type: 'number',
      description: 'CPU limit in cores, e.g. 0.5.',
      exclusiveMinimum: 0,
    },
    memory: {
      type: 'string',
      description:
        'Memory limit, e.g. 256Mi or 1Gi (powers of 1024) or 512M (powers of 1000), as in Kubernetes.',
      pattern: MEMORY_PATTERN,
      patternErrorMessage: 'must be a size like 256Mi, 1Gi or 512M',
    },
  },
} as const;

/** The health fields an environment may override: timings and thresholds, not the check itself. */
const HEALTH_TIMING = {
  interval: duration('Time between checks.', '2s'),
  timeout: duration('How long one check may take before it counts as failed.', '1s'),
  startPeriod: duration('Failures right after start do not count for this long.', '10s'),
  healthyThreshold: {
    type: 'integer',
    description: 'Consecutive passes before an instance counts as healthy.',
    minimum: 1,
    default: 2,
  },
  unhealthyThreshold: {
    type: 'integer',
    description: 'Consecutive failures before an instance counts as unhealthy.',
    minimum: 1,
    default: 3,
  },
} as const;

/** The check kinds of `health`; a process's `health` has the same ones. */
const HEALTH_CHECKS = {
  http: {
    type: 'object',
    description: 'Healthy when GET <path> on the app port answers <expect>.',
    additionalProperties: false,
    properties: {
      path: {
        type: 'string',
        description: 'Request path, starting with /.',
        pattern: '^/[!-~]*$',
        patternErrorMessage: 'must be a URL path starting with "/", without spaces',
        default: DEFAULT_HTTP_CHECK.path,
      },
      expect: {
        type: 'integer',
        description: 'The HTTP status a healthy instance answers.',
        minimum: 100,
        maximum: 599,
        default: DEFAULT_HTTP_CHECK.expect,
      },
    },
  },
  tcp: {
    type: 'object',
    description: 'Healthy when the app port accepts a TCP connection. Write `tcp: {}`.',
    errorMessage: 'must be an empty mapping: write `tcp: {}`',
    additionalProperties: false,
    properties: {},
  },
  exec: {
    type: 'array',
    description: 'A command run in the container, without a shell; healthy when it exits 0.',
    minItems: 1,
    items: { type: 'string' },
    examples: [['pg_isready', '-h', 'localhost']],
  },
} as const;

/** At most one check kind per `health`. */
const ONE_CHECK = {
  // Typed, so a health that is not a mapping gets only the type error, not this one too.
  type: 'object',
  anyOf: [
    { required: ['http', 'tcp'] },
    { required: ['http', 'exec'] },
    { required: ['tcp', 'exec'] },
  ],
  errorMessage: 'must set only one of http, tcp and exec',
} as const;

/** The rollout fields, all of which an environment may override. */
const ROLLOUT_POLICY = {
  maxSurge: {
    type: 'integer',
    description: `Instances started above \`replicas\` during a rollout. At most ${REPLICAS_CEILING}, and at most what the controller allows (deploy.maxSurge in its config, 50 by default).`,
    minimum: 0,
    maximum: REPLICAS_CEILING,
    default: 1,
  },
  maxUnavailable: {
    type: 'integer',
    description: 'Instances that may be missing below `replicas` during a rollout.',
    minimum: 0,
    default: 0,
  },
  progressDeadline: duration('A rollout that makes no progress for this long fails.', '120s'),
  bake: duration('How long the new revision must stay healthy before the rollout succeeds.', '0s'),
  autoRollback: {
    type: 'boolean',
    description: 'Roll back to the previous revision when a rollout fails.',
    default: true,
  },
} as const;

/**
 * A field as an environment override: without its default, or Ajv would fill it in and every
 * environment would override every field with the top-level default.
 */
function overriding<T extends { readonly default?: unknown }>(
  field: T,
  description?: string,
): Omit<T, 'default'> {
  const { default: _default, ...rest } = field;
  return description === undefined ? rest : { ...rest, description };
}

function overridingAll<T extends Readonly<Record<string, { readonly default?: unknown }>>>(
  fields: T,
): { [K in keyof T]: Omit<T[K], 'default'> } {
  return Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, overriding(v)])) as {
    [K in keyof T]: Omit<T[K], 'default'>;
  };
}

/** The JSON Schema of `gantry.yaml`. */
export const appSpecJsonSchema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: APP_SPEC_SCHEMA_ID,
  title: 'Gantry app spec (gantry.yaml)',
  description:
    'How Gantry builds, runs, health-checks and rolls out one app. Only `app` is required; everything else has a default.',
  type: 'object',
  additionalProperties: false,
  required: ['app'],
  properties: {
    app: {
      type: 'string',
      description:
        'The app name. It names the image repository and labels every container, so it is a DNS label: lowercase letters, digits and "-".',
      pattern: APP_NAME_PATTERN,
      patternErrorMessage: APP_NAME_RULE,
      examples: ['hello'],
    },
    build: {
      type: 'object',
      description: 'How the image is built from the commit (docker build).',
      additionalProperties: false,
      default: {},
      properties: {
        context: {
          type: 'string',
          description:
            'Build context directory, relative to the directory holding gantry.yaml. Must stay inside the repository.',
          minLength: 1,
          default: '.',
        },
        dockerfile: {
          type: 'string',
          description:
            'Path of the Dockerfile relative to the build context (as in docker compose). Must stay inside the context.',
          minLength: 1,
          default: 'Dockerfile',
        },
        target: {
          type: 'string',
          description: 'The stage to build in a multi-stage Dockerfile (`FROM … AS <target>`).',
          pattern: '^[A-Za-z][A-Za-z0-9_.-]*$',
          patternErrorMessage: 'must be a Dockerfile stage name',
        },
        args: variables('Build arguments (`--build-arg NAME=value`). Values are strings.'),
      },
    },
    watch: {
      type: 'array',
      description:
        'The paths whose changes rebuild and redeploy this app, relative to the directory holding gantry.yaml (they may climb, as in `../shared`, but stay inside the repository). A path names a file or a folder and everything under it; `*`, `?` and `**` (any number of folders) are globs; a leading `!` leaves matching paths out. By default: the folder of gantry.yaml and the build context. gantry.yaml itself always counts. A first push, a force-push and a push whose previous head is unknown build every app.',
      minItems: 1,
      items: { type: 'string', minLength: 1 },
      examples: [['.', '../shared', '!docs/**']],
    },
    run: {
      type: 'object',
      description: 'How each instance runs.',
      additionalProperties: false,
      default: {},
      properties: {
        port: {
          type: 'integer',
          description: 'The port the process listens on inside the container.',
          minimum: 1,
          maximum: 65535,
          default: 8080,
        },
        replicas: REPLICAS,
        env: variables('Environment variables (not secret: they are in git). Values are strings.'),
        secrets: {
          type: 'array',
          description:
            "Names of environment variables whose values come from the controller's secret store; never values.",
          default: [],
          uniqueItems: true,
          items: { type: 'string', pattern: VAR_PATTERN, patternErrorMessage: VAR_RULE },
        },
        resources: RESOURCES,
      },
    },
    processes: {
      type: 'object',
      description:
        "Process types run from the one image, by name: `web` and, say, `worker`. A process with a `port` is routed (the edge sends it the environment's traffic and its health gates use that port); `web` is routed even without one (it listens on run.port). At most one process is routed; the others get no port and are healthy while running (not exited, not restarting), or by their own `exec` check. Without `processes:`, the app is one `web` process made of `run` and `health`.",
      minProperties: 1,
      maxProperties: MAX_PROCESSES,
      propertyNames: PROCESS_NAMES,
      additionalProperties: {
        type: 'object',
        additionalProperties: false,
        properties: {
          command: {
            type: 'array',
            description:
              "The command and its arguments, without a shell (replaces the image's CMD; its ENTRYPOINT stays). Absent: the image's own CMD.",
            minItems: 1,
            items: { type: 'string', minLength: 1 },
            examples: [['sh', '-c', 'bin/worker']],
          },
          replicas: overriding(
            REPLICAS,
            'Instances of this process in each environment (web: run.replicas; others: 1).',
          ),
          port: {
            type: 'integer',
            description:
              'The port this process listens on; it makes the process the routed one (only one may be).',
            minimum: 1,
            maximum: 65535,
          },
          resources: overriding(
            RESOURCES,
            'Limits per instance of this process; each one set here replaces the one in run.resources.',
          ),
          health: {
            type: 'object',
            description:
              'The health check of this process and its timings (each replacing the one in health). A routed process defaults to `health`; an unrouted one to "running", or an `exec` check.',
            additionalProperties: false,
            properties: { ...HEALTH_CHECKS, ...overridingAll(HEALTH_TIMING) },
            not: ONE_CHECK,
          },
        },
      },
    },
    health: {
      type: 'object',
      description:
        'How Gantry decides an instance is healthy. Set at most one of http, tcp and exec; with none, it sends HTTP GET / to the app port and expects 200.',
      additionalProperties: false,
      default: {},
      properties: {
        ...HEALTH_CHECKS,
        ...HEALTH_TIMING,
      },
      not: ONE_CHECK,
    },
    release: {
      type: 'object',
      description:
        "The release phase: a command run once per rollout (deploys and config changes, not rollbacks) before any new instance starts, in a one-off container of the new release's image with its config. A non-zero exit or a timeout fails the rollout and nothing changes; the old release keeps serving. Typically database migrations, written so the old release keeps working (expand/contract).",
      additionalProperties: false,
      required: ['command'],
      properties: {
        command: {
          type: 'array',
          description:
            "The command and its arguments, without a shell (replaces the image's CMD; its ENTRYPOINT stays). Use [sh, -c, '…'] for a shell.",
          minItems: 1,
          items: { type: 'string', minLength: 1 },
          examples: [
            ['bin/rails', 'db:migrate'],
            ['sh', '-c', 'npm run migrate'],
          ],
        },
        timeout: duration('Past it the command is killed and the rollout fails.', '5m'),
      },
    },
    selfHeal: {
      type: 'boolean',
      description:
        'Between rollouts, repair drift (lost, stopped or unhealthy instances, stray containers, edge routes). Off: drift is shown, not repaired.',
      default: true,
    },
    rollout: {
      type: 'object',
      description: 'How a new revision replaces the running one.',
      additionalProperties: false,
      default: {},
      properties: {
        ...ROLLOUT_POLICY,
      },
    },
    environments: {
      type: 'object',
      description:
        'Where the app is deployed: environment name → the branch it follows, the target it runs on, and what it runs differently (replicas, env, resources, health timings, rollout policy).',
      default: { production: { branch: 'main', target: 'local' } },
      minProperties: 1,
      propertyNames: {
        type: 'string',
        pattern: APP_NAME_PATTERN,
        patternErrorMessage: APP_NAME_RULE,
      },
      additionalProperties: {
        type: 'object',
        additionalProperties: false,
        required: ['branch'],
        properties: {
          branch: {
            type: 'string',
            description: 'The git branch whose pushes deploy to this environment.',
            examples: ['main'],
          },
          target: {
            type: 'string',
            description:
              "A target (Docker hosts or a Kubernetes namespace) named in the controller's config.",
            pattern: NAME_PATTERN,
            patternErrorMessage: NAME_RULE,
            default: 'local',
          },
          domain: {
            type: 'string',
            description:
              'One host name for this environment: the same as `domains: [name]` (both may be given; the names add up).',
            pattern: HOSTNAME_PATTERN,
            patternErrorMessage: 'must be a lowercase host name like hello.example.com',
            examples: ['hello.localhost'],
          },
          domains: {
            type: 'array',
            description:
              "Host names the edge serves this environment on over HTTPS (the edge's HTTPS port, 443 by default; its HTTP port redirects). Certificates are automatic: Caddy's own CA for local names (*.localhost, *.test, *.local, *.internal, IP addresses), ACME (Let's Encrypt) for public ones, whose DNS must point at the edge. The environment's own edge port keeps serving plain HTTP.",
            minItems: 1,
            uniqueItems: true,
            items: {
              type: 'string',
              pattern: HOSTNAME_PATTERN,
              patternErrorMessage: 'must be a lowercase host name like shop.example.com',
            },
            examples: [['shop.example.com', 'www.shop.example.com']],
          },
          replicas: overriding(REPLICAS, 'Instances in this environment, instead of run.replicas.'),
          env: overriding(
            variables(
              'Environment variables for this environment, merged over run.env (a name set in both takes this value).',
            ),
          ),
          resources: overriding(
            RESOURCES,
            'Limits per instance in this environment; each one set here replaces the one in run.resources.',
          ),
          health: {
            type: 'object',
            description:
              'Health timings and thresholds for this environment, each replacing the one in health. The check itself (http, tcp, exec) is the same in every environment.',
            additionalProperties: false,
            properties: overridingAll(HEALTH_TIMING),
          },
          rollout: {
            type: 'object',
            description:
              'Rollout policy for this environment, each field replacing the one in rollout.',
            additionalProperties: false,
            properties: overridingAll(ROLLOUT_POLICY),
          },
          processes: {
            type: 'object',
            description:
              'Replicas per process type in this environment, each replacing the one in processes.',
            propertyNames: PROCESS_NAMES,
            additionalProperties: {
              type: 'object',
              additionalProperties: false,
              properties: { replicas: overriding(REPLICAS) },
            },
          },
        },
      },
    },
  },
} as const;

/** What the schema accepts, once Ajv has filled in the defaults. */
export interface RawAppSpec {
  app: string;
  build: { context: string; dockerfile: string; target?: string; args: Record<string, string> };
  watch?: string[];
  run: {
    port: number;
    replicas: number;
    env: Record<string, string>;
    secrets: string[];
    resources: { cpu?: number; memory?: string };
  };
  processes?: Record<string, RawProcess>;
  health: {
    http?: { path: string; expect: number };
    tcp?: Record<string, never>;
    exec?: string[];
    interval: string;
    timeout: string;
    startPeriod: string;
    healthyThreshold: number;
    unhealthyThreshold: number;
  };
  release?: { command: string[]; timeout: string };
  selfHeal: boolean;
  rollout: {
    maxSurge: number;
    maxUnavailable: number;
    progressDeadline: string;
    bake: string;
    autoRollback: boolean;
  };
  environments: Record<string, RawEnvironment>;
}

/** One entry of `environments`: its binding, then what it overrides (absent: the top-level value). */
export interface RawEnvironment {
  branch: string;
  target: string;
  domain?: string;
  domains?: string[];
  replicas?: number;
  env?: Record<string, string>;
  resources?: { cpu?: number; memory?: string };
  health?: Partial<
    Pick<
      RawAppSpec['health'],
      'interval' | 'timeout' | 'startPeriod' | 'healthyThreshold' | 'unhealthyThreshold'
    >
  >;
  rollout?: Partial<RawAppSpec['rollout']>;
  processes?: Record<string, { replicas?: number }>;
}

/** One entry of `processes`: only what it sets (the rest comes from run and health). */
export interface RawProcess {
  command?: string[];
  replicas?: number;
  port?: number;
  resources?: { cpu?: number; memory?: string };
  health?: Partial<RawAppSpec['health']>;
}
