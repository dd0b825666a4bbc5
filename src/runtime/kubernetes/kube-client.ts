/**
 * The connection to the API server: credentials (in-cluster service account, or a kubeconfig
 * file and context), the typed API clients, a raw GET for the pod proxy (the generated client
 * escapes the `/` of a proxied path), and how API failures become Gantry errors.
 */
import http from 'node:http';
import https from 'node:https';
import {
  ApiException,
  AppsV1Api,
  CoreV1Api,
  KubeConfig,
  PatchStrategy,
  setHeaderOptions,
} from '@kubernetes/client-node';
import { GantryError, type ErrorCode } from '../../errors.js';

/** How the controller reaches a cluster (the `runtime.kubernetes` block of the controller config). */
export interface KubernetesTargetConfig {
  /** Everything Gantry creates lives in this namespace; the Role grants verbs only here. */
  readonly namespace: string;
  /** Use the pod's service-account token and CA (the controller runs in the cluster). */
  readonly inCluster?: boolean | undefined;
  /** A kubeconfig file; default `$KUBECONFIG`, then `~/.kube/config`. */
  readonly kubeconfig?: string | undefined;
  /** A context of that kubeconfig; default its current context. */
  readonly context?: string | undefined;
  /** How long the edge waits after unrouting a pod for kube-proxy to drop it (ms). */
  readonly drainMs?: number | undefined;
}

/** Loads credentials; a missing file or unknown context is GANTRY_ERR_CONFIG_INVALID. */
export function loadKubeConfig(target: KubernetesTargetConfig): KubeConfig {
  const kc = new KubeConfig();
  try {
    if (target.inCluster) kc.loadFromCluster();
    else if (target.kubeconfig) kc.loadFromFile(target.kubeconfig);
    else kc.loadFromDefault();
  } catch (e) {
    throw new GantryError(
      'GANTRY_ERR_CONFIG_INVALID',
      `cannot load Kubernetes credentials (${target.inCluster ? 'in-cluster service account' : (target.kubeconfig ?? 'default kubeconfig')}): ${String(e)}`,
      { cause: e },
    );
  }
  if (target.context !== undefined) {
    const names = kc.getContexts().map((c) => c.name);
    if (!names.includes(target.context)) {
      throw new GantryError(
        'GANTRY_ERR_CONFIG_INVALID',
        `kubeconfig has no context "${target.context}"; it has: ${names.join(', ') || '(none)'}`,
      );
    }
    kc.setCurrentContext(target.context);
  }
  if (kc.getCurrentCluster() === null) {
    throw new GantryError(
      'GANTRY_ERR_CONFIG_INVALID',
      'the Kubernetes credentials name no cluster (no current context in the kubeconfig?)',
    );
  }
  return kc;
}

/** The typed clients and the raw request path, for one namespace. */
export interface Kube {
  readonly kc: KubeConfig;
  readonly namespace: string;
  readonly core: CoreV1Api;
  readonly apps: AppsV1Api;
}

export function makeKube(kc: KubeConfig, namespace: string): Kube {
  return {
    kc,
    namespace,
    core: kc.makeApiClient(CoreV1Api),
    apps: kc.makeApiClient(AppsV1Api),
  };
}

/** Options for a JSON merge patch (the generated client defaults to JSON patch). */
export const MERGE_PATCH = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

/** The HTTP status of an API failure, if it is one. */
export function statusOf(e: unknown): number | undefined {
  if (e instanceof ApiException) return e.code;
  const code = (e as { code?: unknown; statusCode?: unknown } | null)?.statusCode;
  return typeof code === 'number' ? code : undefined;
}

/** The API server's own message for a failure (its `Status.message`), else the error's text. */
export function messageOf(e: unknown): string {
  if (e instanceof ApiException) {
    const body: unknown = e.body;
    let parsed: unknown = body;
    if (typeof body === 'string') {
      try {
        parsed = JSON.parse(body);
      } catch {
        parsed = undefined;
      }
    }
    const message = (parsed as { message?: unknown } | undefined)?.message;
    if (typeof message === 'string') return `${e.code}: ${message}`;
    return `HTTP ${e.code}`;
  }
  return e instanceof Error ? e.message : String(e);
}

/**
 * A Gantry error for a failed API call: 403 is a missing RBAC verb (a person must grant it),
 * 422/400 a rejected object; anything else (5xx, network) is transient.
 */
export function kubeError(
  e: unknown,
  what: string,
  fallback: ErrorCode = 'GANTRY_ERR_KUBERNETES_UNAVAILABLE',
): GantryError {
  const status = statusOf(e);
  const text = `${what}: ${messageOf(e)}`;
  if (status === 401 || status === 403) {
    return new GantryError(
      'GANTRY_ERR_CONFIG_INVALID',
      `${text} (check the credentials and that the Role grants what src/runtime/kubernetes/rbac.ts lists)`,
      { cause: e },
    );
  }
  if (status === 400 || status === 422) {
    return new GantryError('GANTRY_ERR_INSTANCE_START', text, { cause: e });
  }
  return new GantryError(fallback, text, { cause: e });
}

/**
 * A raw GET on the API server with the configured credentials: for the pod proxy, whose path the
 * generated client would escape. Resolves with any status; rejects on no answer in `timeoutMs`.
 * With `connectTimeoutMs`, reaching the API server (TCP and TLS) has that budget of its own and
 * `timeoutMs` counts from there: a slow handshake on a loaded API server then eats nothing of
 * the time the answer behind it is given.
 */
export async function rawGet(
  kc: KubeConfig,
  path: string,
  timeoutMs: number,
  opts: { readonly connectTimeoutMs?: number | undefined } = {},
): Promise<{ status: number; body: string; contentType: string }> {
  const cluster = kc.getCurrentCluster();
  if (cluster === null) throw new Error('no current cluster');
  const url = new URL(cluster.server.replace(/\/+$/, '') + path);
  const options: https.RequestOptions = { method: 'GET', headers: {} };
  await kc.applyToHTTPSOptions(options);
  const plain = url.protocol === 'http:';
  if (plain) delete options.agent;
  return new Promise((resolve, reject) => {
    const req = (plain ? http : https).request(url, options, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        // Health answers are small; never hold a large body in memory.
        if (size < 64 * 1024) chunks.push(c);
        size += c.length;
      });
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          body: Buffer.concat(chunks).toString('utf8'),
          contentType: String(res.headers['content-type'] ?? ''),
        }),
      );
      res.on('error', reject);
    });
    // Whether the API server took the connection (TLS handshake done): a timeout before that is
    // the API server away, after it an answer that did not come (pod-proxy.ts tells them apart).
    let connected = false;
    const budget = opts.connectTimeoutMs ?? timeoutMs;
    let timer = setTimeout(() => req.destroy(timeoutError(budget, connected)), budget);
    const onConnected = (): void => {
      connected = true;
      if (opts.connectTimeoutMs === undefined) return; // one budget for the whole request
      clearTimeout(timer);
      timer = setTimeout(() => req.destroy(timeoutError(timeoutMs, true)), timeoutMs);
    };
    req.on('socket', (socket) => {
      if (!socket.connecting) onConnected();
      else socket.once(plain ? 'connect' : 'secureConnect', onConnected);
    });
    req.on('close', () => clearTimeout(timer));
    req.on('error', reject);
    req.end();
  });
}

/** A request that got no answer in time; `connected`: whether the API server had taken it. */
export interface RawGetTimeout extends Error {
  readonly name: 'TimeoutError';
  readonly connected: boolean;
}

function timeoutError(ms: number, connected: boolean): RawGetTimeout {
  const e = Object.assign(new Error(`no answer within ${ms} ms`), { connected });
  e.name = 'TimeoutError';
  return e as RawGetTimeout;
}

/**
 * The API server's own failure in a proxied answer (`kind: Status`), e.g. "error trying to reach
 * service: dial tcp …: connection refused"; undefined when the app itself answered.
 */
export function proxyFailure(res: { body: string; contentType: string }): string | undefined {
  if (!res.contentType.includes('application/json')) return undefined;
  try {
    const parsed = JSON.parse(res.body) as {
      kind?: unknown;
      apiVersion?: unknown;
      message?: unknown;
    };
    if (
      parsed.kind === 'Status' &&
      parsed.apiVersion === 'v1' &&
      typeof parsed.message === 'string'
    ) {
      return parsed.message;
    }
  } catch {
    return undefined;
  }
  return undefined;
}
