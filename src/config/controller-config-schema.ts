import { DEFAULT_SPEC_LIMITS, REPLICAS_CEILING } from './spec-limits.js';
import { DURATION_PATTERN, MEMORY_PATTERN } from './units.js';

/** An http(s) URL, with the message a person needs rather than the regular expression. */
const HTTP_URL = {
  type: 'string',
  pattern: '^https?://',
  patternErrorMessage: 'must be an http:// or https:// URL',
} as const;

/** An app name as gantry.yaml allows it (app-spec-schema.ts). */
const APP_NAME = '^(?!.*--)[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?$';

/** An app or environment name in a token's scope (both follow gantry.yaml's naming rule). */
const TOKEN_SCOPE_NAME = {
  type: 'string',
  pattern: APP_NAME,
  patternErrorMessage: 'must be an app or environment name: lowercase letters, digits and -',
} as const;

/** The events a notification receiver may ask for: a rollout's start and ends. */
export const ROLLOUT_NOTIFY_EVENTS = [
  'started',
  'succeeded',
  'failed',
  'aborted',
  'superseded',
] as const;

/** …and what the reconciler did or saw between rollouts (`env` events, src/reconcile/events.ts). */
export const ENV_NOTIFY_EVENTS = ['self-heal', 'drift', 'orphaned', 'pruned'] as const;

/** JSON Schema of `gantry.config.yaml`, the controller's own configuration. */
export const controllerConfigSchema = {
  $id: 'https://gantry.dev/schema/gantry.config.json',
  type: 'object',
  additionalProperties: false,
  required: ['repos'],
  properties: {
    listen: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        host: { type: 'string', default: '127.0.0.1' },
        port: { type: 'integer', minimum: 0, maximum: 65535, default: 8700 },
      },
    },
    redis: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        url: { type: 'string', default: 'redis://127.0.0.1:6379' },
        prefix: { type: 'string', pattern: '^[a-z][a-z0-9-]*$', default: 'gantry' },
      },
    },
    registry: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        address: {
          type: 'string',
          pattern: '^[A-Za-z0-9.-]+(:[0-9]+)?$',
          default: '127.0.0.1:5000',
        },
        /** For a registry that refuses anonymous pushes and pulls (GHCR, Docker Hub, htpasswd). */
        username: { type: 'string', minLength: 1, maxLength: 256 },
        /** The variable holding the password or token; the value never goes into the file. */
        passwordEnv: { type: 'string', pattern: '^[A-Z_][A-Z0-9_]*$' },
        /** Deleting images no environment can roll back to (src/registry/registry-prune.ts). */
        prune: {
          type: 'object',
          additionalProperties: false,
          default: {},
          properties: {
            /** How often; `0s` turns the periodic prune off (`gantry registry:prune` still runs). */
            interval: { type: 'string', pattern: DURATION_PATTERN, default: '24h' },
            /** Succeeded rollouts per environment whose images stay: the rollback window. */
            keepPerEnvironment: { type: 'integer', minimum: 1, maximum: 1000, default: 10 },
            /** Images younger than this stay (a build that pushed may not have its rollout yet). */
            grace: { type: 'string', pattern: DURATION_PATTERN, default: '24h' },
            /** A local docker-registry's config file: `garbage-collect` runs after deletes. */
            gcConfig: { type: 'string', minLength: 1, maxLength: 4096 },
          },
        },
      },
      dependencies: { username: ['passwordEnv'], passwordEnv: ['username'] },
    },
    docker: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: { socketPath: { type: 'string' }, host: { type: 'string' } },
    },
    dataDir: { type: 'string', default: '.gantry/data' },
    runtime: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        hosts: {
          type: 'array',
          minItems: 1,
          default: [{ name: 'local', endpoint: 'unix:///var/run/docker.sock' }],
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['name', 'endpoint'],
            properties: {
              name: { type: 'string', pattern: '^[a-z0-9][a-z0-9-]{0,62}$' },
              endpoint: { type: 'string', pattern: '^(unix|tcp)://' },
              /** The IP its instances publish on, dialled by the edge and probes (hosts.ts). */
              address: { type: 'string', minLength: 2, maxLength: 45 },
              /** Engine TLS for `tcp://…:2376`: paths of PEM files (CA, client cert and key). */
              tls: {
                type: 'object',
                additionalProperties: false,
                required: ['ca', 'cert', 'key'],
                properties: {
                  ca: { type: 'string', minLength: 1, maxLength: 4096 },
                  cert: { type: 'string', minLength: 1, maxLength: 4096 },
                  key: { type: 'string', minLength: 1, maxLength: 4096 },
                },
              },
            },
          },
        },
        /** `docker` runs instances on `hosts`; `kubernetes` runs them as pods in `namespace`. */
        kind: { enum: ['docker', 'kubernetes'], default: 'docker' },
        /** Kubernetes: the namespace everything is created in (the Role is granted there). */
        namespace: { type: 'string', pattern: '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$' },
        /** Kubernetes: use the pod's service-account credentials (the controller runs in-cluster). */
        inCluster: { type: 'boolean', default: false },
        /** Kubernetes: a kubeconfig file (default $KUBECONFIG, then ~/.kube/config) and context. */
        kubeconfig: { type: 'string', minLength: 1 },
        context: { type: 'string', minLength: 1 },
        /** Kubernetes: how long an unrouted pod keeps its Service traffic (endpoint propagation). */
        drainMs: { type: 'integer', minimum: 0, maximum: 600000, default: 2000 },
      },
    },
    /**
     * Named targets (src/config/targets-config.ts): each a group of Docker hosts or a Kubernetes
     * namespace, with the same keys as `runtime` (referenced, so the two never drift apart).
     */
    targets: {
      type: 'object',
      minProperties: 1,
      maxProperties: 64,
      propertyNames: { pattern: '^[a-z0-9][a-z0-9-]{0,62}$' },
      additionalProperties: {
        type: 'object',
        additionalProperties: false,
        minProperties: 1,
        maxProperties: 1,
        errorMessage: 'must be exactly one of docker: { hosts } or kubernetes: { namespace }',
        properties: {
          docker: {
            type: 'object',
            additionalProperties: false,
            required: ['hosts'],
            properties: { hosts: { $ref: '#/properties/runtime/properties/hosts' } },
          },
          kubernetes: {
            type: 'object',
            additionalProperties: false,
            required: ['namespace'],
            properties: {
              namespace: { $ref: '#/properties/runtime/properties/namespace' },
              inCluster: { type: 'boolean' },
              kubeconfig: { $ref: '#/properties/runtime/properties/kubeconfig' },
              context: { $ref: '#/properties/runtime/properties/context' },
              drainMs: { type: 'integer', minimum: 0, maximum: 600000 },
            },
          },
        },
      },
    },
    /** The target of environments whose gantry.yaml names none (or `local`); default: the first. */
    defaultTarget: { type: 'string', pattern: '^[a-z0-9][a-z0-9-]{0,62}$' },
    edge: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        /** Start and stop the Caddy pair with the controller (else point at running ones). */
        manage: { type: 'boolean', default: true },
        frontAdminUrl: { type: 'string' },
        backAdminUrl: { type: 'string' },
        logDir: { type: 'string' },
        listenHost: { type: 'string', default: '127.0.0.1' },
        basePort: { type: 'integer', minimum: 1, maximum: 65000, default: 8800 },
        /** Environments with `domains`: HTTP (redirects to HTTPS, ACME challenges) and HTTPS. */
        httpPort: { type: 'integer', minimum: 1, maximum: 65535, default: 80 },
        httpsPort: { type: 'integer', minimum: 1, maximum: 65535, default: 443 },
        /** `auto`: local names (*.localhost, *.test, IPs…) from Caddy's own CA, others by ACME. */
        tls: { enum: ['auto', 'internal'], default: 'auto' },
        acme: {
          type: 'object',
          additionalProperties: false,
          default: {},
          properties: {
            /** The ACME account's contact (expiry warnings); recommended for public names. */
            email: { type: 'string', pattern: '^[^@\\s]+@[^@\\s]+$' },
            /** An ACME directory other than Let's Encrypt's (its staging, a private CA). */
            ca: { type: 'string', pattern: '^https://' },
          },
        },
      },
    },
    deploy: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        enabled: { type: 'boolean', default: true },
        tickMs: { type: 'integer', minimum: 50, maximum: 10000, default: 250 },
        keepImages: { type: 'integer', minimum: 1, maximum: 100, default: 5 },
        /** The most `run.replicas` a spec may ask for in any environment (src/config/spec-limits.ts). */
        maxReplicas: {
          type: 'integer',
          minimum: 1,
          maximum: REPLICAS_CEILING,
          default: DEFAULT_SPEC_LIMITS.maxReplicas,
        },
        /** The most `rollout.maxSurge` a spec may ask for in any environment. */
        maxSurge: {
          type: 'integer',
          minimum: 0,
          maximum: REPLICAS_CEILING,
          default: DEFAULT_SPEC_LIMITS.maxSurge,
        },
      },
    },
    /** The key config secrets are sealed with (AES-256-GCM); see src/release/secret-keys.ts. */
    secrets: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        /** Default `<dataDir>/secrets.key`, made on first start. */
        keyFile: { type: 'string', minLength: 1 },
        /** An environment variable holding the key (wins over keyFile). */
        keyEnv: { type: 'string', pattern: '^[A-Z_][A-Z0-9_]*$' },
        /** Keys from before a rotation: they open old values until `gantry secrets:rotate` re-seals them. */
        previousKeyFiles: { type: 'array', items: { type: 'string', minLength: 1 }, maxItems: 10 },
      },
    },
    /** Between rollouts: every environment held to its record (src/reconcile/). */
    reconcile: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        /** Off: drift is detected and shown, never repaired (an app's gantry.yaml can also turn it off). */
        selfHeal: { type: 'boolean', default: true },
        /** Full resync of every environment this often, besides runtime and edge events. */
        interval: { type: 'string', pattern: '^[0-9]+(ms|s|m|h)$', default: '30s' },
        /** A gantry-labelled instance of no known rollout is removed after this long. */
        strayGrace: { type: 'string', pattern: '^[0-9]+(ms|s|m|h)$', default: '60s' },
        /** Remove orphaned environments (gone from the config or the repo) by themselves. */
        prune: { type: 'boolean', default: false },
        /** How long a rollout waits for an unreachable Docker engine before it fails. */
        engineWait: { type: 'string', pattern: '^[0-9]+(ms|s|m|h)$', default: '120s' },
      },
    },
    build: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        concurrency: { type: 'integer', minimum: 1, maximum: 64, default: 2 },
        timeoutSeconds: { type: 'integer', minimum: 1, default: 900 },
        /** Attempts in all for a job that fails transiently (registry, engine or git away). */
        attempts: { type: 'integer', minimum: 1, maximum: 50, default: 8 },
        /** Backoff between those attempts: baseDelay doubling up to maxDelay (src/queue/retry.ts). */
        retry: {
          type: 'object',
          additionalProperties: false,
          default: {},
          properties: {
            /** Same as build.attempts, which it overrides. */
            attempts: { type: 'integer', minimum: 1, maximum: 50 },
            baseDelay: { type: 'string', pattern: DURATION_PATTERN, default: '5s' },
            maxDelay: { type: 'string', pattern: DURATION_PATTERN, default: '2m' },
          },
        },
        /** The total size of one build context (the files sent to the engine). */
        maxContextSize: { type: 'string', pattern: MEMORY_PATTERN, default: '2Gi' },
        logLines: { type: 'integer', minimum: 100, default: 5000 },
        debounceMs: { type: 'integer', minimum: 0, maximum: 600000, default: 1500 },
      },
    },
    /** Caps on what a push can make the controller download and hold (src/source/source-limits.ts). */
    source: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        /** Bytes one fetch may receive (the pack is held in memory while it is indexed). */
        maxPackSize: { type: 'string', pattern: MEMORY_PATTERN, default: '1Gi' },
        /** One fetch from start to end, however steadily the bytes come. */
        fetchTimeout: { type: 'string', pattern: DURATION_PATTERN, default: '10m' },
        /** A connection to the remote that sends nothing this long is given up. */
        idleTimeout: { type: 'string', pattern: DURATION_PATTERN, default: '60s' },
        /** Any one file read into memory (build-context files, symlinks, ignore files). */
        maxBlobSize: { type: 'string', pattern: MEMORY_PATTERN, default: '100Mi' },
      },
    },
    webhooks: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        bodyLimitBytes: { type: 'integer', minimum: 1024, default: 1048576 },
        /** Deliveries per client address that may fail verification per window before 429. */
        failedSignatures: {
          type: 'object',
          additionalProperties: false,
          default: {},
          properties: {
            max: { type: 'integer', minimum: 1, default: 30 },
            timeWindow: { type: 'string', pattern: DURATION_PATTERN, default: '1m' },
          },
        },
      },
    },
    api: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        bodyLimitBytes: { type: 'integer', minimum: 1024, default: 65536 },
        /** The URL people reach the controller at (links in notes and statuses; allowed Origin). */
        publicUrl: HTTP_URL,
        /** Requests per token name (or per address before authentication) per window on /api. */
        rateLimit: {
          type: 'object',
          additionalProperties: false,
          default: {},
          properties: {
            max: { type: 'integer', minimum: 1, default: 3000 },
            timeWindow: { type: 'string', pattern: DURATION_PATTERN, default: '1m' },
          },
        },
        /** Comment lines keep idle event streams open through proxies. */
        sseHeartbeat: { type: 'string', pattern: DURATION_PATTERN, default: '15s' },
        /** Concurrent /api/events streams one controller serves: in total, and per token. */
        streams: {
          type: 'object',
          additionalProperties: false,
          default: {},
          properties: {
            max: { type: 'integer', minimum: 1, default: 1000 },
            perToken: { type: 'integer', minimum: 1, default: 50 },
          },
        },
      },
    },
    history: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        /** Rollout records older than this are removed (never an environment's current one). */
        keepDays: { type: 'integer', minimum: 1, default: 90 },
        /** At most this many rollout records per environment are kept. */
        keepPerEnvironment: { type: 'integer', minimum: 1, default: 1000 },
        /** At most this many build records (with their logs) per app; older than keepDays go too. */
        keepBuildsPerApp: { type: 'integer', minimum: 1, default: 1000 },
      },
    },
    tokens: {
      type: 'array',
      default: [],
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'hash', 'role'],
        properties: {
          name: { type: 'string', minLength: 1 },
          hash: { type: 'string', pattern: '^sha256:[0-9a-f]{64}$' },
          role: { enum: ['viewer', 'deployer', 'admin'] },
          /** Scopes: only these apps / environments (all when absent). */
          apps: { type: 'array', minItems: 1, maxItems: 1000, items: TOKEN_SCOPE_NAME },
          envs: { type: 'array', minItems: 1, maxItems: 100, items: TOKEN_SCOPE_NAME },
          /** Beyond the role: deploy a branch the environment does not track; lift a lock. */
          permissions: {
            type: 'array',
            maxItems: 10,
            items: { enum: ['deploy:any-branch', 'unlock'] },
          },
        },
        // An admin reloads the config and its tokens: a scope on one would be a false promise.
        not: {
          type: 'object',
          required: ['role'],
          properties: { role: { const: 'admin' } },
          anyOf: [{ required: ['apps'] }, { required: ['envs'] }],
          errorMessage: 'an admin token cannot be limited to apps or envs; use a deployer',
        },
      },
    },
    repos: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'url'],
        properties: {
          name: { type: 'string', pattern: '^[a-z0-9][a-z0-9._-]{0,62}$' },
          url: HTTP_URL,
          branches: { type: 'array', items: { type: 'string', minLength: 1 }, minItems: 1 },
          apps: { type: 'array', items: { type: 'string', minLength: 1 }, minItems: 1 },
          /**
           * App names that belong to this repo whoever claimed them first: a name alone (the
           * repo's one app folder) or `{ app, path }` with one of `apps`.
           */
          owns: {
            type: 'array',
            items: {
              anyOf: [
                { type: 'string', pattern: APP_NAME },
                {
                  type: 'object',
                  additionalProperties: false,
                  required: ['app', 'path'],
                  properties: {
                    app: { type: 'string', pattern: APP_NAME },
                    path: { type: 'string', minLength: 1 },
                  },
                },
              ],
            },
          },
          webhookSecret: { type: 'string', minLength: 16 },
          credentials: {
            type: 'object',
            additionalProperties: false,
            required: ['passwordEnv'],
            properties: {
              username: { type: 'string' },
              passwordEnv: { type: 'string', pattern: '^[A-Z_][A-Z0-9_]*$' },
            },
          },
          pollIntervalSeconds: { type: 'integer', minimum: 0 },
          /** Where commit statuses and deployments of this repo's rollouts are reported. */
          forge: {
            type: 'object',
            additionalProperties: false,
            required: ['kind', 'apiUrl', 'tokenEnv'],
            properties: {
              kind: { enum: ['github', 'gitlab', 'gitea'] },
              apiUrl: HTTP_URL,
              webUrl: HTTP_URL,
              project: { type: 'string', minLength: 1 },
              tokenEnv: { type: 'string', pattern: '^[A-Z_][A-Z0-9_]*$' },
            },
          },
        },
      },
    },
    /** Outgoing notifications of rollout starts and outcomes, and of the reconciler's repairs. */
    notifications: {
      type: 'array',
      default: [],
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'kind', 'url'],
        properties: {
          name: { type: 'string', minLength: 1 },
          kind: { enum: ['webhook', 'slack'] },
          url: HTTP_URL,
          secretEnv: { type: 'string', pattern: '^[A-Z_][A-Z0-9_]*$' },
          apps: { type: 'array', items: { type: 'string', minLength: 1 }, minItems: 1 },
          environments: { type: 'array', items: { type: 'string', minLength: 1 }, minItems: 1 },
          events: {
            type: 'array',
            minItems: 1,
            items: { enum: [...ROLLOUT_NOTIFY_EVENTS, ...ENV_NOTIFY_EVENTS] },
          },
        },
      },
    },
  },
} as const;
