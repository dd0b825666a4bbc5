/**
 * One runtime in front of several (a controller's targets): each call goes to the runtime of the
 * instance's or spec's environment, as `runtimeOf` says; what names no environment fans out to all
 * of them. For the parts that act on any environment (the API's logs and one-off commands); the
 * rollouts and the reconciler are handed their environment's own runtime instead.
 */
import type {
  ExecResult,
  FollowLogsOptions,
  Instance,
  InstanceFilter,
  InstanceSpec,
  OneOffResult,
  OneOffSpec,
  RunOnceOptions,
  Runtime,
  RuntimeChange,
  Survey,
} from './runtime.js';
import { surveyOf } from './survey.js';

/** Which runtime an app environment's instances run on. */
export type RuntimeOf = (app: string, env: string) => Promise<Runtime>;

export class TargetRuntime implements Runtime {
  private readonly runtimes: readonly Runtime[];

  constructor(
    runtimes: readonly Runtime[],
    private readonly runtimeOf: RuntimeOf,
  ) {
    this.runtimes = [...new Set(runtimes)];
  }

  /** Every target's hosts (placement asks the environment's own runtime). */
  hosts(): string[] {
    return [...new Set(this.runtimes.flatMap((r) => r.hosts()))];
  }

  async start(spec: InstanceSpec): Promise<Instance> {
    const runtime = await this.forEnv(spec.app, spec.env);
    return runtime.start({ ...spec, host: hostOn(runtime, spec.host) });
  }

  async stop(instance: Instance, opts: { timeoutSeconds: number }): Promise<void> {
    return (await this.of(instance)).stop(instance, opts);
  }

  async remove(instance: Instance): Promise<void> {
    return (await this.of(instance)).remove(instance);
  }

  async list(filter: InstanceFilter): Promise<Instance[]> {
    if (filter.env !== undefined) return (await this.forEnv(filter.app, filter.env)).list(filter);
    const lists = await Promise.all(this.runtimes.map((r) => r.list(filter)));
    // Two targets may share an engine: each instance once.
    const seen = new Set<string>();
    return lists.flat().filter((i) => !seen.has(i.id) && seen.add(i.id) !== undefined);
  }

  /** One environment's survey (its own target's hosts); a fan-out lists all or none. */
  async survey(filter: InstanceFilter): Promise<Survey> {
    if (filter.env !== undefined)
      return surveyOf(await this.forEnv(filter.app, filter.env), filter);
    return { instances: await this.list(filter), unreachable: [] };
  }

  async exec(instance: Instance, argv: readonly string[], timeoutMs: number): Promise<ExecResult> {
    return (await this.of(instance)).exec(instance, argv, timeoutMs);
  }

  async logs(instance: Instance, tailLines: number): Promise<string[]> {
    return (await this.of(instance)).logs(instance, tailLines);
  }

  async followLogs(instance: Instance, opts: FollowLogsOptions): Promise<void> {
    return (await this.of(instance)).followLogs(instance, opts);
  }

  async runOnce(spec: OneOffSpec, opts: RunOnceOptions): Promise<OneOffResult> {
    const runtime = await this.forEnv(spec.app, spec.env);
    return runtime.runOnce({ ...spec, host: hostOn(runtime, spec.host) }, opts);
  }

  async sweepOneOffs(now: number): Promise<number> {
    const counts = await Promise.all(this.runtimes.map((r) => r.sweepOneOffs(now)));
    return counts.reduce((a, b) => a + b, 0);
  }

  async evidence(instance: Instance): Promise<string[]> {
    return (await (await this.of(instance)).evidence?.(instance)) ?? [];
  }

  async ensureImage(host: string, image: string): Promise<void> {
    await Promise.all(this.onHost(host).map((r) => r.ensureImage(host, image)));
  }

  async removeImages(host: string, keep: readonly string[], app: string): Promise<string[]> {
    const removed = await Promise.all(
      this.onHost(host).map((r) => r.removeImages(host, keep, app)),
    );
    return removed.flat();
  }

  watch(onChange: (change: RuntimeChange) => void): () => void {
    const stops = this.runtimes.map((r) => r.watch?.(onChange));
    return () => stops.forEach((stop) => stop?.());
  }

  /** The runtime of an environment; with one target, without asking (no store involved). */
  private async forEnv(app: string, env: string): Promise<Runtime> {
    const [only] = this.runtimes;
    return this.runtimes.length === 1 && only ? only : this.runtimeOf(app, env);
  }

  /**
   * The runtime of an instance: the one target with its host, else its environment's (hosts may
   * share names across targets). Works without the store when the host tells.
   */
  private async of(instance: Instance): Promise<Runtime> {
    const [only, ...others] = this.onHost(instance.host);
    return only && others.length === 0 ? only : this.forEnv(instance.app, instance.env);
  }

  private onHost(host: string): Runtime[] {
    return this.runtimes.filter((r) => r.hosts().includes(host));
  }
}

/**
 * `host` when the runtime has it, else its first: callers that place one-offs on "the first host"
 * (`hosts()[0]`) asked this composite, whose first host may be another target's.
 */
function hostOn(runtime: Runtime, host: string): string {
  const hosts = runtime.hosts();
  return hosts.includes(host) ? host : (hosts[0] ?? host);
}
