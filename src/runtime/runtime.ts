/**
 * The runtime port: the one small interface the controller uses to run instances (containers or
 * pods). Implementations live beside it (`docker/`); every one of them must pass the behavioural
 * suite in `test/contract/runtime-contract.ts`. Nothing outside `src/runtime/` imports an engine
 * client.
 *
 * Instances are found again by their labels, never from a list kept elsewhere: the runtime is the
 * truth about what runs now.
 */

/** What to run: one replica of one revision of an app in one environment, on one host. */
export interface InstanceSpec {
  readonly app: string;
  readonly env: string;
  /** The commit SHA the image was built from. */
  readonly revision: string;
  readonly rolloutId: string;
  /** The release (image + config, numbered per environment) it runs, labelled on it. */
  readonly release?: number | undefined;
  /**
   * Unique per app and environment and chosen deterministically by the caller (for instance from
   * the rollout and the replica index): a retried start of the same slot finds the same instance.
   */
  readonly slot: string;
  /** A pinned reference, `repo@sha256:…`: a moved tag can never change what runs. */
  readonly image: string;
  /** The port the process listens on inside the instance. */
  readonly port: number;
  /**
   * Its process type (`web`, `worker`…), labelled on it and part of its name; absent: `web`, the
   * one process of specs from before process types.
   */
  readonly process?: string | undefined;
  /** Replaces the image's CMD (its ENTRYPOINT stays); absent: the image's own. */
  readonly command?: readonly string[] | undefined;
  /**
   * False for a process the edge never routes (a worker): nothing is published for it. Absent:
   * routed.
   */
  readonly routed?: boolean | undefined;
  readonly vars: Readonly<Record<string, string>>;
  /** Values are never logged, never put in labels, never quoted in error messages. */
  readonly secrets: Readonly<Record<string, string>>;
  /** CPUs (0.5 = half a core); undefined means no limit. */
  readonly cpu?: number | undefined;
  readonly memoryBytes?: number | undefined;
  /** Seconds between SIGTERM and SIGKILL when the engine itself stops the instance (default 10). */
  readonly stopTimeoutSeconds?: number | undefined;
  /** One of `Runtime.hosts()`. */
  readonly host: string;
  /**
   * The app's health check, for engines that run a readiness check of their own (Kubernetes
   * readiness probes); the controller's probes still decide. Docker ignores it.
   */
  readonly readiness?: ReadinessSpec | undefined;
}

/** A health check as the engine's own readiness check (see `InstanceSpec.readiness`). */
export interface ReadinessSpec {
  readonly check:
    | { readonly kind: 'http'; readonly path: string }
    | { readonly kind: 'tcp' }
    | { readonly kind: 'exec'; readonly command: readonly string[] };
  readonly intervalMs: number;
  readonly timeoutMs: number;
}

/** The engine's word for where an instance is in its life; `restarting` means a crash loop. */
export type InstanceState =
  'created' | 'running' | 'restarting' | 'exited' | 'dead' | 'paused' | 'removing';

/** A running or stopped replica as the runtime reports it now. */
export interface Instance {
  /** The engine's id (a container id). */
  readonly id: string;
  readonly name: string;
  readonly host: string;
  readonly app: string;
  readonly env: string;
  readonly revision: string;
  readonly rolloutId: string;
  readonly slot: string;
  /** The release it runs; null when it carries none (started before releases existed). */
  readonly release?: number | null | undefined;
  /** Its process type label; null or absent: `web` (started before process types). */
  readonly process?: string | null | undefined;
  /** The image reference it was started from. */
  readonly image: string;
  readonly state: InstanceState;
  /** Set once the process has exited (`exited`, `dead`, or between restarts). */
  readonly exitCode?: number | undefined;
  /** How many times the engine restarted it after a crash. */
  readonly restartCount: number;
  /** Epoch ms of the last start, undefined if never started. */
  readonly startedAt?: number | undefined;
  /** The port published on its host's address, undefined while not running. */
  readonly hostPort?: number | undefined;
  /**
   * The IP `hostPort` is published on, which the edge and probes dial (a remote Docker host's
   * address); absent: 127.0.0.1, the controller's machine.
   */
  readonly hostAddress?: string | undefined;
  /**
   * How the edge names the instance when it is not published on the controller's loopback
   * (Kubernetes: `<pod>:<port>`); undefined while it cannot take traffic.
   */
  readonly upstream?: string | undefined;
}

export interface InstanceFilter {
  readonly app: string;
  readonly env?: string | undefined;
}

/** A host whose engine did not answer a listing, and why. */
export interface UnreachableHost {
  readonly host: string;
  readonly detail: string;
}

/**
 * A listing that tells the hosts that answered from those that did not (`Runtime.survey`): the
 * instances on an unreachable host are unknown, not absent, and must not be taken for missing.
 */
export interface Survey {
  readonly instances: Instance[];
  readonly unreachable: readonly UnreachableHost[];
}

export interface ExecResult {
  readonly exitCode: number;
  /** stdout and stderr as they arrived (their relative order is not guaranteed), the tail when long. */
  readonly output: string;
}

/**
 * A one-off container: a command in a new container of a release's image with its config (the
 * release phase of a rollout, `gantry run`). Labelled as Gantry's but never an instance: `list`
 * leaves one-offs out, so the reconciler never takes one for a stray or a surplus replica.
 */
export interface OneOffSpec {
  readonly app: string;
  readonly env: string;
  readonly revision: string;
  readonly release?: number | undefined;
  /** What it is for; part of its name and labels. */
  readonly purpose: 'release' | 'run';
  /**
   * Unique per app, environment and purpose, and chosen by the caller (the rollout id for a
   * release phase): a second `runOnce` with the same key attaches to the first container while it
   * runs instead of starting another, so the command never runs twice at once.
   */
  readonly key: string;
  /** A pinned reference, `repo@sha256:…`. */
  readonly image: string;
  /** Replaces the image's CMD (its ENTRYPOINT stays), as `docker run IMAGE CMD…` does. */
  readonly command: readonly string[];
  readonly vars: Readonly<Record<string, string>>;
  /** Values are never logged, never put in labels, never quoted in error messages. */
  readonly secrets: Readonly<Record<string, string>>;
  readonly cpu?: number | undefined;
  readonly memoryBytes?: number | undefined;
  /** One of `Runtime.hosts()`. */
  readonly host: string;
}

export interface RunOnceOptions {
  /** Past it the container is killed and removed, and the result says `timedOut`. */
  readonly timeoutMs: number;
  /** Output as it arrives, in chunks (not lines); stdout and stderr told apart unless a TTY. */
  readonly onOutput?: ((chunk: string, stream: 'stdout' | 'stderr') => void) | undefined;
  /** Fed to the command's stdin; its end closes stdin. */
  readonly stdin?: NodeJS.ReadableStream | undefined;
  /** A pseudo-terminal (output is one raw stream then). */
  readonly tty?: boolean | undefined;
  /** Aborting kills and removes the container (a client that went away). */
  readonly signal?: AbortSignal | undefined;
  /** Epoch ms now, for the deadline label that lets a crashed controller's leftover be swept. */
  readonly now?: number | undefined;
}

export interface OneOffResult {
  /** The command's exit code; -1 when it never finished (timed out, aborted). */
  readonly exitCode: number;
  readonly timedOut: boolean;
  /** True when the container already ran (an earlier attempt's) and this call only waited for it. */
  readonly attached: boolean;
}

/** One log line of an instance, as followed (`followLogs`). */
export interface LogLine {
  /** Epoch ms the engine stamped it with, when it did. */
  readonly at?: number | undefined;
  readonly line: string;
}

/**
 * How health checks reach instances that are not published on 127.0.0.1 (Kubernetes pods, through
 * the API server's pod proxy). A runtime without it has every running instance published.
 */
export interface InstanceProbes {
  /** GET `path` on the instance's port; resolves with the status, rejects on no answer. */
  httpGet(instance: Instance, path: string, timeoutMs: number): Promise<{ status: number }>;
  /**
   * The engine's own readiness verdict from `InstanceSpec.readiness` (tcp and exec checks),
   * with its evidence; undefined when the engine has not said yet.
   */
  ready(instance: Instance): { ready: boolean; detail: string } | undefined;
}

/**
 * A change the engine reported to one of Gantry's instances (it died, was stopped, removed or
 * started), or `{ all: true }` when the engine's event stream was cut and anything may have
 * changed meanwhile (the engine restarted): the reconciler looks again.
 */
export type RuntimeChange =
  { readonly all: false; readonly app: string; readonly env: string } | { readonly all: true };

/** What to stream from an instance's log, and where each line goes (`Runtime.followLogs`). */
export interface FollowLogsOptions {
  follow: boolean;
  sinceMs?: number | undefined;
  tailLines?: number | undefined;
  onLine: (line: LogLine) => void;
  signal?: AbortSignal | undefined;
}

/** The port itself. Every method is safe to repeat: BullMQ delivers at least once. */
export interface Runtime {
  /** Present when instances are reached through the engine rather than on 127.0.0.1. */
  readonly probes?: InstanceProbes | undefined;
  /** Names of the hosts instances can be placed on. */
  hosts(): string[];
  /**
   * Starts the instance for `spec.slot`, idempotently: if it exists it is returned (and started if
   * it was stopped); otherwise the image is made present and the instance is created and started.
   */
  start(spec: InstanceSpec): Promise<Instance>;
  /** SIGTERM, then SIGKILL after `timeoutSeconds`; stopping what is stopped or gone is a no-op. */
  stop(instance: Instance, opts: { timeoutSeconds: number }): Promise<void>;
  /** Removes the instance (stopping it hard if needed); removing what is gone is a no-op. */
  remove(instance: Instance): Promise<void>;
  /**
   * The instances of an app (and environment) on every host, found by their labels. Every host or
   * none: it rejects when one does not answer, as a partial answer reads as missing replicas.
   */
  list(filter: InstanceFilter): Promise<Instance[]>;
  /**
   * Optional, for runtimes of several hosts: the instances on the hosts that answer, and which did
   * not (see `Survey`); it rejects only when no host answers. Without it, `list` is the survey.
   */
  survey?(filter: InstanceFilter): Promise<Survey>;
  /** Runs `argv` inside the instance; rejects with GANTRY_ERR_EXEC_TIMEOUT after `timeoutMs`. */
  exec(instance: Instance, argv: readonly string[], timeoutMs: number): Promise<ExecResult>;
  /** The last `tailLines` lines of its output (stdout and stderr). */
  logs(instance: Instance, tailLines: number): Promise<string[]>;
  /**
   * Streams the instance's log lines (stdout and stderr) to `onLine`: those since `sinceMs` (epoch
   * ms; else the last `tailLines`), then new ones while it runs when `follow`. Resolves when the
   * stream ends: the instance stopped or went away, `signal` aborted, or (without `follow`) the
   * lines so far were sent.
   */
  followLogs(instance: Instance, opts: FollowLogsOptions): Promise<void>;
  /**
   * Runs `spec.command` once in a new container (see `OneOffSpec`), waits for it and removes it,
   * also after a timeout or an abort. A leftover from a controller that died meanwhile is removed
   * by `sweepOneOffs` once past its deadline.
   */
  runOnce(spec: OneOffSpec, opts: RunOnceOptions): Promise<OneOffResult>;
  /** Removes one-off containers past their deadline (left by a controller that died); returns how many. */
  sweepOneOffs(now: number): Promise<number>;
  /**
   * Optional: the engine's own account of why an instance is not serving (Kubernetes: pod phase,
   * waiting reasons such as ImagePullBackOff, events), kept with a failed rollout's evidence.
   */
  evidence?(instance: Instance): Promise<string[]>;
  /** Makes `image` present on `host`, pulling it by digest from its registry if missing. */
  ensureImage(host: string, image: string): Promise<void>;
  /** Removes the app's images on `host` except the `keep` refs (and what is in use); returns the refs removed. */
  removeImages(host: string, keep: readonly string[], app: string): Promise<string[]>;
  /**
   * Optional: calls `onChange` when the engine reports a change to a Gantry instance (the Docker
   * events stream, Kubernetes watches), reconnecting by itself; returns a function that stops.
   * Without it the reconciler relies on its periodic resync alone.
   */
  watch?(onChange: (change: RuntimeChange) => void): () => void;
}
