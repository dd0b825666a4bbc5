import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { ValidateFunction } from 'ajv';
import { GantryError } from '../errors.js';
import {
  controllerConfigSchema,
  ENV_NOTIFY_EVENTS,
  ROLLOUT_NOTIFY_EVENTS,
} from './controller-config-schema.js';
import { compileSchema, schemaIssues } from './schema-issues.js';
import { parseYamlSource, sourceError } from './yaml-source.js';
import type { RegistryAccess } from '../registry/credentials.js';

const CODE = 'GANTRY_ERR_CONFIG_INVALID';
let validator: ValidateFunction<unknown> | undefined;

/** A git repository the controller follows. */
export interface RepoConfig {
  /** Short id used in keys, logs and the API. */
  name: string;
  url: string;
  /** Branches whose pushes are built; others are acknowledged and ignored. */
  branches: string[];
  /** Directories (relative to the repo root) that hold an app's gantry.yaml. */
  apps: string[];
  /** App names this repo owns by config, each with the folder (one of `apps`) that builds it. */
  owns?: { app: string; path: string }[] | undefined;
  /** Shared secret for webhook signatures; a repo without one never accepts webhooks. */
  webhookSecret?: string | undefined;
  /** HTTPS credentials; the token is read from the environment, never written in the file. */
  credentials?: { username: string; password: string } | undefined;
  /** Poll the remote for new heads every N seconds (0 = webhooks only). */
  pollIntervalSeconds: number;
  /** Where rollouts of this repo's commits are reported (commit statuses, deployments). */
  forge?: ForgeConfig | undefined;
}

/** A forge API that receives commit statuses; the token is read from `tokenEnv`, never logged. */
export interface ForgeConfig {
  kind: 'github' | 'gitlab' | 'gitea';
  /** `https://api.github.com`, `https://gitlab.example.com`, `https://gitea.example.com`. */
  apiUrl: string;
  webUrl?: string | undefined;
  /** `owner/repo` (GitLab: project id or path); default derived from the repo URL. */
  project?: string | undefined;
  token: string;
}

/** A rollout's start or end, as a notification receiver names it. */
export type RolloutNotifyEvent = (typeof ROLLOUT_NOTIFY_EVENTS)[number];
/** What the reconciler did or saw between rollouts: a repair, drift, an orphan, a prune. */
export type EnvNotifyEvent = (typeof ENV_NOTIFY_EVENTS)[number];
/** The events a notification may be sent for. */
export type NotifyEvent = RolloutNotifyEvent | EnvNotifyEvent;

/**
 * What a receiver without `events` gets: every event. Each is sent once, on a transition (a
 * repair when decided, drift when first seen), and all of them change or question what runs in
 * production without a commit; a receiver that wants fewer lists them.
 */
export const DEFAULT_NOTIFY_EVENTS: readonly NotifyEvent[] = [
  ...ROLLOUT_NOTIFY_EVENTS,
  ...ENV_NOTIFY_EVENTS,
];

/** One outgoing notification receiver; the signing secret is read from `secretEnv`. */
export interface NotificationConfig {
  name: string;
  kind: 'webhook' | 'slack';
  url: string;
  secret?: string | undefined;
  /** Only these apps / environments (all when absent). */
  apps?: string[] | undefined;
  environments?: string[] | undefined;
  /** Only these events (DEFAULT_NOTIFY_EVENTS when absent). */
  events?: NotifyEvent[] | undefined;
}

export type Role = 'viewer' | 'deployer' | 'admin';

/** Rights beyond a deployer's, granted token by token (an admin has them all). */
export const PERMISSIONS = ['deploy:any-branch', 'unlock'] as const;
export type Permission = (typeof PERMISSIONS)[number];

export interface TokenConfig {
  name: string;
  /** `sha256:<hex>` of the bearer token; the token itself is never stored. */
  hash: string;
  role: Role;
  /** Only these apps and environments (all when absent); other apps are not even shown. */
  apps?: string[] | undefined;
  envs?: string[] | undefined;
  permissions?: Permission[] | undefined;
}

export interface ControllerConfig {
  listen: { host: string; port: number };
  redis: { url: string; prefix: string };
  /** Credentials read from `registry.passwordEnv` (see src/registry/credentials.ts). */
  registry: RegistryAccess & { prune: RegistryPruneConfig };
  docker: { socketPath?: string | undefined; host?: string | undefined };
  dataDir: string;
  runtime: {
    hosts: {
      name: string;
      endpoint: string;
      /** The IP its instances publish on; default from the endpoint (hosts.ts). */
      address?: string | undefined;
      /** PEM file paths for an engine on `tcp://…:2376`. */
      tls?: { ca: string; cert: string; key: string } | undefined;
    }[];
    kind: 'docker' | 'kubernetes';
    namespace?: string | undefined;
    inCluster: boolean;
    kubeconfig?: string | undefined;
    context?: string | undefined;
    drainMs: number;
  };
  /**
   * Named targets, each a group of Docker hosts or a Kubernetes namespace (targets-config.ts);
   * absent: `runtime` is the one target, `local`.
   */
  targets?: Record<string, RawTarget> | undefined;
  /** Where an environment without a `target:` (or with `local`) goes; default: the first target. */
  defaultTarget?: string | undefined;
  edge: {
    manage: boolean;
    frontAdminUrl?: string | undefined;
    backAdminUrl?: string | undefined;
    logDir?: string | undefined;
    listenHost: string;
    basePort: number;
    httpPort: number;
    httpsPort: number;
    tls: 'auto' | 'internal';
    acme: { email?: string | undefined; ca?: string | undefined };
  };
  deploy: {
    enabled: boolean;
    tickMs: number;
    keepImages: number;
    maxReplicas: number;
    maxSurge: number;
  };
  secrets: {
    keyFile?: string | undefined;
    keyEnv?: string | undefined;
    previousKeyFiles?: string[] | undefined;
  };
  reconcile: {
    selfHeal: boolean;
    interval: string;
    strayGrace: string;
    prune: boolean;
    engineWait: string;
  };
  build: {
    concurrency: number;
    timeoutSeconds: number;
    attempts: number;
    retry: { attempts?: number | undefined; baseDelay: string; maxDelay: string };
    maxContextSize: string;
    logLines: number;
    debounceMs: number;
  };
  source: { maxPackSize: string; fetchTimeout: string; idleTimeout: string; maxBlobSize: string };
  webhooks: { bodyLimitBytes: number; failedSignatures: { max: number; timeWindow: string } };
  api: {
    bodyLimitBytes: number;
    publicUrl?: string | undefined;
    rateLimit: { max: number; timeWindow: string };
    sseHeartbeat: string;
    streams: { max: number; perToken: number };
  };
  history: { keepDays: number; keepPerEnvironment: number; keepBuildsPerApp: number };
  tokens: TokenConfig[];
  repos: RepoConfig[];
  notifications: NotificationConfig[];
}

/** One entry of `targets:` as written: exactly one of `docker` or `kubernetes`. */
export interface RawTarget {
  docker?: { hosts: ControllerConfig['runtime']['hosts'] } | undefined;
  kubernetes?:
    | {
        namespace: string;
        inCluster?: boolean | undefined;
        kubeconfig?: string | undefined;
        context?: string | undefined;
        drainMs?: number | undefined;
      }
    | undefined;
}

/**
 * `${NAME}` / `${NAME:-default}` in a string value are replaced from the environment after the
 * YAML is parsed, scalar by scalar: a value is inserted as data, never as YAML text, so a newline,
 * `: `, `#` or `{` in a variable cannot add keys or end the value. Comments and keys are not
 * substituted. A plain (unquoted) scalar that is one whole reference, like `port: ${PORT}`, takes
 * the type the value would have in YAML if it is a number or boolean; anything else stays a string.
 */
const ENV_REF = /\$\{([A-Z_][A-Z0-9_]*)(?::-([^}]*))?\}/g;
const WHOLE_REF = /^\$\{[A-Z_][A-Z0-9_]*(?::-[^}]*)?\}$/;
const YAML_NUMBER = /^[-+]?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?$/;

/** The scalar `value` with its references to `env` substituted (pure). */
export function substituteEnv(
  value: string,
  env: NodeJS.ProcessEnv,
  where: { file: string; plain: boolean; line: number; col: number },
): string | number | boolean {
  const out = value.replace(ENV_REF, (_m, name: string, fallback: string | undefined) => {
    const v = env[name] ?? fallback;
    if (v === undefined) {
      throw new GantryError(
        CODE,
        `${where.file}:${where.line}:${where.col}: environment variable ${name} is referenced but not set`,
      );
    }
    return v;
  });
  if (!where.plain || out === value || !WHOLE_REF.test(value)) return out;
  if (YAML_NUMBER.test(out)) return Number(out);
  if (out === 'true' || out === 'false') return out === 'true';
  return out;
}

interface RawRepo {
  name: string;
  url: string;
  branches?: string[];
  apps?: string[];
  owns?: (string | { app: string; path: string })[];
  webhookSecret?: string;
  credentials?: { username?: string; passwordEnv: string };
  pollIntervalSeconds?: number;
  forge?: Omit<ForgeConfig, 'token'> & { tokenEnv: string };
}

type RawNotification = Omit<NotificationConfig, 'secret'> & { secretEnv?: string };

interface RawRegistry {
  address: string;
  username?: string;
  passwordEnv?: string;
  prune: RegistryPruneConfig;
}

export interface RegistryPruneConfig {
  interval: string;
  keepPerEnvironment: number;
  grace: string;
  gcConfig?: string | undefined;
}

/** The registry with its credentials read from the environment (the schema pairs both keys). */
function registryAccess(
  r: RawRegistry,
  env: NodeJS.ProcessEnv,
  file: string,
  baseDir: string,
): ControllerConfig['registry'] {
  const { address } = r;
  const gcConfig = r.prune.gcConfig && path.resolve(baseDir, r.prune.gcConfig);
  const prune = { ...r.prune, ...(gcConfig ? { gcConfig } : {}) };
  if (r.username === undefined || r.passwordEnv === undefined) return { address, prune };
  const password = requiredEnv(env, r.passwordEnv, file, 'registry.passwordEnv');
  return { address, prune, credentials: { username: r.username, password } };
}

/** The value of the environment variable `name`, or a config error naming who asked for it. */
function requiredEnv(env: NodeJS.ProcessEnv, name: string, file: string, what: string): string {
  const value = env[name];
  if (value === undefined || value === '') {
    throw new GantryError(
      'GANTRY_ERR_CONFIG_INVALID',
      `${file}: ${what} names ${name}, which is not set`,
    );
  }
  return value;
}

/** Parses a controller config text (YAML) into a fully defaulted config; env overrides win. */
export function parseControllerConfig(
  text: string,
  opts: { file?: string; env?: NodeJS.ProcessEnv; baseDir?: string } = {},
): ControllerConfig {
  const file = opts.file ?? 'gantry.config.yaml';
  const env = opts.env ?? process.env;
  const source = parseYamlSource(text, {
    file,
    code: CODE,
    scalar: (value, at) => substituteEnv(value, env, { file, ...at }),
  });
  const raw: unknown = source.value ?? {};
  // Both would say where instances run; which one wins must not be a guess.
  if (typeof raw === 'object' && raw !== null && 'targets' in raw && 'runtime' in raw) {
    const at = source.locate(['targets'], 'key');
    throw new GantryError(
      CODE,
      `${file}:${at.line}:${at.col}: targets and runtime are both set: name every target under targets (runtime is the one-target form)`,
    );
  }
  validator ??= compileSchema<unknown>(controllerConfigSchema);
  // Validation fills in the defaults, in place; errors name file, line and column.
  if (!validator(raw)) throw sourceError(CODE, file, schemaIssues(validator.errors, source));
  const cfg = raw as Omit<ControllerConfig, 'repos' | 'notifications' | 'registry'> & {
    repos: RawRepo[];
    notifications: RawNotification[];
    registry: RawRegistry;
  };
  const baseDir = opts.baseDir ?? process.cwd();
  const repos = cfg.repos.map((r): RepoConfig => {
    const password = r.credentials ? env[r.credentials.passwordEnv] : undefined;
    if (r.credentials && password === undefined) {
      throw new GantryError(
        'GANTRY_ERR_CONFIG_INVALID',
        `${file}: repo ${r.name}: credentials.passwordEnv names ${r.credentials.passwordEnv}, which is not set`,
      );
    }
    const apps = r.apps ?? ['.'];
    return {
      name: r.name,
      url: r.url,
      branches: r.branches ?? ['main'],
      apps,
      owns: (r.owns ?? []).map((o) => ownedApp(o, r.name, apps, file)),
      webhookSecret: r.webhookSecret,
      credentials:
        r.credentials && password !== undefined
          ? { username: r.credentials.username ?? 'x-access-token', password }
          : undefined,
      pollIntervalSeconds: r.pollIntervalSeconds ?? 0,
      forge: r.forge && {
        kind: r.forge.kind,
        apiUrl: r.forge.apiUrl,
        webUrl: r.forge.webUrl,
        project: r.forge.project,
        token: requiredEnv(env, r.forge.tokenEnv, file, `repo ${r.name}: forge.tokenEnv`),
      },
    };
  });
  checkOwnedOnce(repos, file);
  const notifications = cfg.notifications.map(({ secretEnv, ...n }): NotificationConfig => ({
    ...n,
    secret:
      secretEnv === undefined
        ? undefined
        : requiredEnv(env, secretEnv, file, `notification ${n.name}: secretEnv`),
  }));
  return applyEnvOverrides(
    {
      ...cfg,
      registry: registryAccess(cfg.registry, env, file, baseDir),
      dataDir: path.resolve(baseDir, cfg.dataDir),
      repos,
      notifications,
      secrets: {
        ...cfg.secrets,
        ...(cfg.secrets.keyFile ? { keyFile: path.resolve(baseDir, cfg.secrets.keyFile) } : {}),
        ...(cfg.secrets.previousKeyFiles
          ? { previousKeyFiles: cfg.secrets.previousKeyFiles.map((f) => path.resolve(baseDir, f)) }
          : {}),
      },
    },
    env,
  );
}

/** One `owns` entry as `{ app, path }`: a bare name means the repo's only app folder. */
function ownedApp(
  entry: string | { app: string; path: string },
  repo: string,
  apps: readonly string[],
  file: string,
): { app: string; path: string } {
  const owned = typeof entry === 'string' ? { app: entry, path: apps[0] ?? '.' } : entry;
  if (typeof entry === 'string' && apps.length > 1) {
    throw new GantryError(
      CODE,
      `${file}: repo ${repo}: owns ${entry} must say which folder builds it ({ app: ${entry}, path: … }), the repo has ${apps.length}`,
    );
  }
  if (!apps.includes(owned.path)) {
    throw new GantryError(
      CODE,
      `${file}: repo ${repo}: owns ${owned.app} at ${owned.path}, which is not one of its apps (${apps.join(', ')})`,
    );
  }
  return owned;
}

/** An app name is owned by one repo at most. */
function checkOwnedOnce(repos: readonly RepoConfig[], file: string): void {
  const seen = new Map<string, string>();
  for (const repo of repos) {
    for (const { app } of repo.owns ?? []) {
      const other = seen.get(app);
      if (other !== undefined && other !== repo.name) {
        throw new GantryError(
          CODE,
          `${file}: app ${app} is owned by both repo ${other} and repo ${repo.name}`,
        );
      }
      if (other !== undefined) {
        throw new GantryError(CODE, `${file}: repo ${repo.name} owns app ${app} twice`);
      }
      seen.set(app, repo.name);
    }
  }
}

/** The handful of values operators most often set per deployment can come from GANTRY_* variables. */
function applyEnvOverrides(cfg: ControllerConfig, env: NodeJS.ProcessEnv): ControllerConfig {
  const port = env.GANTRY_PORT === undefined ? cfg.listen.port : Number(env.GANTRY_PORT);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new GantryError('GANTRY_ERR_CONFIG_INVALID', `GANTRY_PORT must be a port number`);
  }
  return {
    ...cfg,
    listen: { host: env.GANTRY_HOST ?? cfg.listen.host, port },
    redis: { ...cfg.redis, url: env.GANTRY_REDIS_URL ?? cfg.redis.url },
    registry: { ...cfg.registry, address: env.GANTRY_REGISTRY ?? cfg.registry.address },
    dataDir: env.GANTRY_DATA_DIR ? path.resolve(env.GANTRY_DATA_DIR) : cfg.dataDir,
  };
}

/** Reads and parses a controller config file. */
export function loadControllerConfig(file: string, env: NodeJS.ProcessEnv = process.env) {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (cause) {
    throw new GantryError('GANTRY_ERR_CONFIG_INVALID', `cannot read ${file}`, { cause });
  }
  return parseControllerConfig(text, { file, env, baseDir: path.dirname(path.resolve(file)) });
}
