/**
 * The HTTP front of the simulator: maps Kubernetes REST paths onto the verbs, serves watches,
 * discovery, pod logs and pod proxy, and answers errors as Status objects.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { discovery } from './discovery.js';
import type { DeleteOptions, Rest } from './rest.js';
import { findResource, type ResourceDef } from './resources.js';
import { scaleOf } from './scale.js';
import { pickEndpoint } from './service-proxy.js';
import { badRequest, StatusError } from './status.js';
import type { KObject, Pod, ReplicaSet } from './types.js';
import type { WatchHub } from './watch.js';
import { mergePatch, applyPatch } from './patch.js';
import { verbOf, type Rbac } from './rbac.js';

/** What the routes need from the kubelet: pods' logs and their ports on 127.0.0.1. */
export interface PodBackend {
  logs(
    pod: Pod,
    opts: { container?: string; tailLines?: number; previous: boolean },
  ): Promise<string>;
  proxy(
    pod: Pod,
    port: string | undefined,
    path: string,
    req: IncomingMessage,
    res: ServerResponse,
  ): Promise<void>;
}

export interface RouteDeps {
  rest: Rest;
  watches: WatchHub;
  pods: PodBackend;
  /** The unrestricted token (the tests' own, like a cluster admin's). */
  token: string;
  /** A token whose requests the Role's rules must allow (the controller's ServiceAccount). */
  restricted?: { token: string; rbac: Rbac } | undefined;
  serverAddress: string;
}

interface Target {
  def: ResourceDef;
  ns: string | undefined;
  name?: string;
  sub?: string;
  /** For `pods/{name}:{port}/proxy`. */
  port?: string;
  /** For proxy: the rest of the path after `/proxy`, raw. */
  proxyPath?: string;
}

function parseTarget(pathname: string): Target | undefined {
  const segs = pathname.split('/').filter((s) => s !== '');
  let group: string;
  let rest: string[];
  if (segs[0] === 'api' && segs[1] === 'v1') {
    group = '';
    rest = segs.slice(2);
  } else if (segs[0] === 'apis' && segs[2] === 'v1' && segs[1] !== undefined) {
    group = segs[1];
    rest = segs.slice(3);
  } else return undefined;
  let ns: string | undefined;
  if (rest[0] === 'namespaces' && rest.length >= 3) {
    ns = decodeURIComponent(rest[1]!);
    rest = rest.slice(2);
  }
  const def = findResource(group, rest[0] ?? '');
  if (!def) return undefined;
  let name = rest[1] === undefined ? undefined : decodeURIComponent(rest[1]);
  const sub = rest[2];
  let port: string | undefined;
  let proxyPath: string | undefined;
  if (
    sub === 'proxy' &&
    name !== undefined &&
    (def.plural === 'pods' || def.plural === 'services')
  ) {
    [name, port] = name.split(':') as [string, string | undefined];
    const marker = `/${rest[1]}/proxy`;
    const at = pathname.indexOf(marker);
    proxyPath = pathname.slice(at + marker.length) || '/';
  }
  return { def, ns, name, sub, port, proxyPath };
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    throw badRequest('the request body is not valid JSON');
  }
}

function sendJson(res: ServerResponse, code: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(code, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(text),
  });
  res.end(text);
}

function deleteOptions(query: URLSearchParams, body: unknown): DeleteOptions {
  const opts: DeleteOptions = { ...((body as DeleteOptions | undefined) ?? {}) };
  const grace = query.get('gracePeriodSeconds');
  if (grace !== null) opts.gracePeriodSeconds = Number(grace);
  const policy = query.get('propagationPolicy');
  if (policy) opts.propagationPolicy = policy as DeleteOptions['propagationPolicy'];
  return opts;
}

/** The request handler of the simulator's HTTP server. */
export function routes(deps: RouteDeps): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    handle(deps, req, res).catch((e: unknown) => {
      const err =
        e instanceof StatusError
          ? e
          : new StatusError(500, 'InternalError', e instanceof Error ? e.message : String(e));
      if (res.headersSent) res.destroy();
      else sendJson(res, err.code, err.toStatus());
    });
  };
}

async function handle(deps: RouteDeps, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://kube-sim');
  const restricted =
    deps.restricted && req.headers.authorization === `Bearer ${deps.restricted.token}`
      ? deps.restricted.rbac
      : undefined;
  if (!restricted && req.headers.authorization !== `Bearer ${deps.token}`) {
    throw new StatusError(401, 'Unauthorized', 'Unauthorized');
  }
  const method = req.method ?? 'GET';
  const doc =
    method === 'GET' ? discovery(url.pathname.replace(/\/$/, ''), deps.serverAddress) : undefined;
  if (doc !== undefined) return sendJson(res, 200, doc);
  const t = parseTarget(url.pathname);
  if (!t)
    throw new StatusError(404, 'NotFound', 'the server could not find the requested resource');
  if (t.def.namespaced && t.name !== undefined && t.ns === undefined) {
    throw new StatusError(404, 'NotFound', 'the server could not find the requested resource');
  }
  const q = url.searchParams;
  // Discovery is open to every authenticated user; resources are subject to the Role.
  restricted?.check({
    apiGroup: t.def.group,
    resource: t.sub ? `${t.def.plural}/${t.sub}` : t.def.plural,
    verb: verbOf(method, t.name !== undefined, q.get('watch') === 'true' || q.get('watch') === '1'),
    namespace: t.ns,
  });
  const { rest } = deps;
  const ns = t.ns ?? '';

  if (t.name === undefined) {
    switch (method) {
      case 'GET':
        if (q.get('watch') === 'true' || q.get('watch') === '1')
          return deps.watches.serve(req, res, t.def, t.ns, q);
        return sendJson(res, 200, rest.list(t.def, t.ns, q));
      case 'POST': {
        if (t.def.namespaced && t.ns === undefined) throw methodNotAllowed();
        return sendJson(res, 201, rest.create(t.def, ns, await readBody(req)));
      }
      case 'DELETE': {
        const opts = deleteOptions(q, await readBody(req));
        const list = rest.list(t.def, t.ns, q) as { items: KObject[] };
        for (const o of list.items)
          rest.delete(t.def, o.metadata.namespace ?? '', o.metadata.name!, opts);
        return sendJson(res, 200, list);
      }
      default:
        throw methodNotAllowed();
    }
  }

  const name = t.name;
  switch (t.sub) {
    case undefined:
      switch (method) {
        case 'GET':
          return sendJson(res, 200, rest.get(t.def, ns, name));
        case 'PUT':
          return sendJson(res, 200, rest.replace(t.def, ns, name, await readBody(req)));
        case 'PATCH':
          return sendJson(
            res,
            200,
            rest.patch(t.def, ns, name, req.headers['content-type'] ?? '', await readBody(req)),
          );
        case 'DELETE':
          return sendJson(
            res,
            200,
            rest.delete(t.def, ns, name, deleteOptions(q, await readBody(req))),
          );
        default:
          throw methodNotAllowed();
      }
    case 'status':
      if (!t.def.statusSubresource) break;
      switch (method) {
        case 'GET':
          return sendJson(res, 200, rest.get(t.def, ns, name));
        case 'PUT':
          return sendJson(res, 200, rest.replace(t.def, ns, name, await readBody(req), 'status'));
        case 'PATCH':
          return sendJson(
            res,
            200,
            rest.patch(
              t.def,
              ns,
              name,
              req.headers['content-type'] ?? '',
              await readBody(req),
              'status',
            ),
          );
        default:
          throw methodNotAllowed();
      }
    case 'scale':
      if (t.def.plural !== 'replicasets') break;
      return sendJson(res, 200, await scale(rest, t.def, ns, name, req, method));
    case 'log':
      if (t.def.plural !== 'pods' || method !== 'GET') break;
      return sendLog(deps, res, rest.get(t.def, ns, name) as Pod, q);
    case 'proxy':
      if (t.def.plural === 'services') {
        const { pod, targetPort } = pickEndpoint(rest.store, rest.get(t.def, ns, name), t.port);
        return deps.pods.proxy(pod, targetPort, `${t.proxyPath}${url.search}`, req, res);
      }
      if (t.def.plural !== 'pods') break;
      return deps.pods.proxy(
        rest.get(t.def, ns, name) as Pod,
        t.port,
        `${t.proxyPath}${url.search}`,
        req,
        res,
      );
  }
  throw new StatusError(404, 'NotFound', 'the server could not find the requested resource');
}

async function scale(
  rest: Rest,
  def: ResourceDef,
  ns: string,
  name: string,
  req: IncomingMessage,
  method: string,
): Promise<unknown> {
  const rs = rest.get(def, ns, name) as ReplicaSet;
  if (method === 'GET') return scaleOf(rs);
  if (method !== 'PUT' && method !== 'PATCH') throw methodNotAllowed();
  const body = await readBody(req);
  const current = scaleOf(rs);
  const next = (
    method === 'PUT' ? body : applyPatch(req.headers['content-type'] ?? '', current, body)
  ) as {
    metadata?: { resourceVersion?: string };
    spec?: { replicas?: number };
  };
  const replicas = next?.spec?.replicas;
  if (typeof replicas !== 'number' || replicas < 0)
    throw badRequest('spec.replicas must be a non-negative number');
  const patched = mergePatch(rs, { spec: { replicas } }) as KObject;
  patched.metadata.resourceVersion = next.metadata?.resourceVersion;
  return scaleOf(rest.replace(def, ns, name, patched) as ReplicaSet);
}

async function sendLog(
  deps: RouteDeps,
  res: ServerResponse,
  pod: Pod,
  q: URLSearchParams,
): Promise<void> {
  const container = q.get('container') ?? undefined;
  if (container && !pod.spec.containers.some((c) => c.name === container)) {
    throw badRequest(`container ${container} is not valid for pod ${pod.metadata.name}`);
  }
  const tail = q.get('tailLines');
  const text = await deps.pods.logs(pod, {
    container,
    tailLines: tail === null ? undefined : Number(tail),
    previous: q.get('previous') === 'true',
  });
  res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

function methodNotAllowed(): StatusError {
  return new StatusError(
    405,
    'MethodNotAllowed',
    'the server does not allow this method on the requested resource',
  );
}
