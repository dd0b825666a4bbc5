/**
 * A local HTTP server that stands in for a forge API or a notification receiver: it records every
 * request (method, path, headers, raw body) and answers as told (a status and JSON, or never: a
 * hang). Also the JSON Schemas of the documented request bodies the reporters must send, so tests
 * check what was sent against what GitHub, GitLab and Gitea document, not against our own builders.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Ajv } from 'ajv';

export interface RecordedCall {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  raw: string;
  json: unknown;
}

/** How to answer a request: a status (and JSON body), or `hang` (never answer). */
export type Answer = { status: number; body?: unknown } | 'hang';

export interface Recorder {
  url: string;
  calls: RecordedCall[];
  /** Sets how requests are answered from now on (default: 201 `{id: <n>}`). */
  answer(fn: (call: RecordedCall) => Answer): void;
  close(): Promise<void>;
}

/** Starts a recorder on 127.0.0.1. */
export async function startRecorder(): Promise<Recorder> {
  const calls: RecordedCall[] = [];
  let answer: (call: RecordedCall) => Answer = () => ({ status: 201, body: { id: calls.length } });
  const hanging = new Set<http.ServerResponse>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      let json: unknown;
      try {
        json = raw === '' ? undefined : JSON.parse(raw);
      } catch {
        json = undefined;
      }
      const call: RecordedCall = {
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        raw,
        json,
      };
      calls.push(call);
      const a = answer(call);
      if (a === 'hang') {
        hanging.add(res);
        return;
      }
      res.writeHead(a.status, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(a.body ?? {}));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    answer: (fn) => {
      answer = fn;
    },
    async close() {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const str = { type: 'string' } as const;

/**
 * Request bodies as the forges document them (GitHub REST 2022-11-28, GitLab API v4 commit
 * statuses, Gitea API v1 CreateStatusOption): required fields, enums, limits. No unknown fields.
 */
export const FORGE_SHAPES = {
  githubStatus: {
    type: 'object',
    additionalProperties: false,
    required: ['state'],
    properties: {
      state: { enum: ['error', 'failure', 'pending', 'success'] },
      target_url: str,
      description: { type: 'string', maxLength: 140 },
      context: str,
    },
  },
  githubDeployment: {
    type: 'object',
    additionalProperties: false,
    required: ['ref'],
    properties: {
      ref: str,
      task: str,
      auto_merge: { type: 'boolean' },
      required_contexts: { type: 'array', items: str },
      payload: {},
      environment: str,
      description: { type: ['string', 'null'], maxLength: 140 },
      transient_environment: { type: 'boolean' },
      production_environment: { type: 'boolean' },
    },
  },
  githubDeploymentStatus: {
    type: 'object',
    additionalProperties: false,
    required: ['state'],
    properties: {
      state: {
        enum: ['error', 'failure', 'inactive', 'in_progress', 'queued', 'pending', 'success'],
      },
      target_url: str,
      log_url: str,
      description: { type: 'string', maxLength: 140 },
      environment: str,
      environment_url: str,
      auto_inactive: { type: 'boolean' },
    },
  },
  gitlabStatus: {
    type: 'object',
    additionalProperties: false,
    required: ['state'],
    properties: {
      state: { enum: ['pending', 'running', 'success', 'failed', 'canceled', 'skipped'] },
      ref: str,
      name: str,
      context: str,
      target_url: str,
      description: str,
      coverage: { type: 'number' },
      pipeline_id: { type: 'integer' },
    },
  },
  giteaStatus: {
    type: 'object',
    additionalProperties: false,
    properties: {
      state: { enum: ['pending', 'success', 'error', 'failure', 'warning'] },
      target_url: str,
      description: str,
      context: str,
    },
  },
} as const;

export type ForgeShape = keyof typeof FORGE_SHAPES;

const ajv = new Ajv({ allErrors: true, strict: false });
const validators = Object.fromEntries(
  Object.entries(FORGE_SHAPES).map(([k, schema]) => [k, ajv.compile(schema)]),
) as Record<ForgeShape, ReturnType<typeof ajv.compile>>;

/** The schema errors of `body` against a documented shape (empty when it conforms). */
export function shapeErrors(shape: ForgeShape, body: unknown): string[] {
  const v = validators[shape];
  return v(body) ? [] : (v.errors ?? []).map((e) => `${e.instancePath} ${e.message ?? ''}`);
}
