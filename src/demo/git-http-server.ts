/**
 * A real git smart-HTTP server for tests and `gantry demo`: node's `http` in front of
 * `git http-backend` run as a CGI program, so clones, fetches and pushes (protocol v0, v1 and v2)
 * meet the same server code as on a real forge. Loopback only; optional basic auth.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createHash, timingSafeEqual } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { GantryError } from '../errors.js';
import { assertBranchName } from '../git/branch-name.js';
import { normalizeRepoPath } from '../source/repo-path.js';

const run = promisify(execFile);

/** A running git HTTP server. */
export interface GitHttpServer {
  /** `http://127.0.0.1:PORT` */
  readonly url: string;
  /** The clone URL of repository `name` under the root (without credentials). */
  repoUrl(name: string): string;
  /** Stops accepting, kills running backends and closes open connections. */
  close(): Promise<void>;
}

/** Where the repositories are, where to listen and who may come in. */
export interface GitHttpServerOptions {
  /** Directory holding the bare repositories (`GIT_PROJECT_ROOT`). */
  readonly root: string;
  readonly host?: '127.0.0.1';
  /** 0 or absent: any free port. */
  readonly port?: number;
  /** Require HTTP basic auth with these credentials for every request. */
  readonly auth?: { readonly username: string; readonly password: string };
}

/** The head of a CGI response: its status and headers. */
export interface CgiHead {
  readonly status: number;
  readonly statusText: string | undefined;
  readonly headers: Record<string, string | string[]>;
}

/** Environment for git commands run on behalf of tests: no user or system config, never a prompt. */
export function isolatedGitEnv(extra: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? '/tmp',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_TERMINAL_PROMPT: '0',
    ...extra,
  };
}

/** Creates the bare repository `<root>/<name>` with HEAD on `branch`; returns its path. */
export async function createBareRepo(root: string, name: string, branch = 'main'): Promise<string> {
  const rel = normalizeRepoPath(name, 'repository name');
  if (rel === '') throw new GantryError('GANTRY_ERR_PATH_ESCAPE', 'repository name is empty');
  const dir = path.resolve(root, rel);
  await mkdir(dir, { recursive: true });
  // `dir` is absolute, so it can never read as an option.
  await run(
    'git',
    ['init', '--bare', '--quiet', `--initial-branch=${assertBranchName(branch)}`, dir],
    {
      env: isolatedGitEnv(),
    },
  );
  return dir;
}

/** Starts the server on 127.0.0.1 and resolves once it listens. */
export async function startGitHttpServer(opts: GitHttpServerOptions): Promise<GitHttpServer> {
  const root = path.resolve(opts.root);
  const host = opts.host ?? '127.0.0.1';
  const children = new Set<ChildProcess>();
  const expectedAuth =
    opts.auth === undefined
      ? undefined
      : digest(
          `Basic ${Buffer.from(`${opts.auth.username}:${opts.auth.password}`).toString('base64')}`,
        );

  const server = http.createServer((req, res) => {
    if (
      expectedAuth !== undefined &&
      !sameDigest(digest(req.headers.authorization ?? ''), expectedAuth)
    ) {
      req.resume();
      res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="gantry-git", charset="UTF-8"' });
      res.end('authentication required\n');
      return;
    }
    serveCgi(req, res, root, opts.auth?.username, children);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${host}:${port}`;
  return {
    url,
    repoUrl: (name) => `${url}/${normalizeRepoPath(name, 'repository name')}`,
    close: async () => {
      for (const child of children) child.kill('SIGKILL');
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}

/** Runs one request through `git http-backend`, streaming the body in and the response out. */
function serveCgi(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  root: string,
  user: string | undefined,
  children: Set<ChildProcess>,
): void {
  const target = new URL(req.url ?? '/', 'http://127.0.0.1');
  let pathInfo: string;
  try {
    pathInfo = decodeURIComponent(target.pathname);
  } catch {
    res.writeHead(400).end('bad path\n');
    return;
  }
  const child = spawn('git', ['http-backend'], {
    env: cgiEnv(req, root, pathInfo, target, user),
    stdio: 'pipe',
  });
  children.add(child);
  const stderr: Buffer[] = [];
  let head = Buffer.alloc(0);
  let headSent = false;

  // The backend may answer (e.g. 404) without reading the body: a broken pipe is not our error.
  child.stdin.on('error', () => {});
  req.pipe(child.stdin);
  // The client went away mid-response: the backend has no one left to talk to. (After a complete
  // response it is left to exit on its own; receive-pack may still be finishing up.)
  res.on('close', () => {
    if (!res.writableFinished && child.exitCode === null) child.kill('SIGKILL');
  });
  child.stderr.on('data', (chunk: Buffer) => {
    if (stderr.length < 64) stderr.push(chunk);
  });

  const onData = (chunk: Buffer): void => {
    head = Buffer.concat([head, chunk]);
    const split = headerEnd(head);
    if (split === null) return;
    const parsed = parseCgiHead(head.subarray(0, split.at).toString('latin1'));
    // Switch from buffering to piping in one synchronous step, so no chunk falls in between.
    child.stdout.off('data', onData);
    headSent = true;
    res.writeHead(parsed.status, parsed.statusText, parsed.headers);
    res.write(head.subarray(split.at + split.length));
    child.stdout.pipe(res);
  };
  child.stdout.on('data', onData);
  child.on('error', (e) => fail(`cannot run git http-backend: ${e.message}`));
  child.on('close', (code) => {
    children.delete(child);
    if (!headSent)
      fail(
        `git http-backend exited with ${code} before a response: ${Buffer.concat(stderr).toString('utf8')}`,
      );
  });

  function fail(message: string): void {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    res.writeHead(500, { 'Content-Type': 'text/plain' }).end(`${message}\n`);
  }
}

/** The CGI environment for one request; only what the backend needs, nothing of ours leaks in. */
function cgiEnv(
  req: http.IncomingMessage,
  root: string,
  pathInfo: string,
  target: URL,
  user: string | undefined,
): Record<string, string> {
  const env: Record<string, string> = isolatedGitEnv({
    GIT_PROJECT_ROOT: root,
    GIT_HTTP_EXPORT_ALL: '1',
    // Anonymous pushes are refused unless receive-pack is switched on explicitly.
    GIT_CONFIG_COUNT: '1',
    GIT_CONFIG_KEY_0: 'http.receivepack',
    GIT_CONFIG_VALUE_0: 'true',
    GATEWAY_INTERFACE: 'CGI/1.1',
    SERVER_PROTOCOL: `HTTP/${req.httpVersion}`,
    REQUEST_METHOD: req.method ?? 'GET',
    PATH_INFO: pathInfo,
    QUERY_STRING: target.search.replace(/^\?/, ''),
    REMOTE_ADDR: req.socket.remoteAddress ?? '127.0.0.1',
  });
  const header = (name: string): string | undefined => {
    const v = req.headers[name];
    return Array.isArray(v) ? v[0] : v;
  };
  const contentType = header('content-type');
  if (contentType !== undefined) env.CONTENT_TYPE = contentType;
  // Without CONTENT_LENGTH the backend reads to EOF, which is what a chunked body needs.
  const contentLength = header('content-length');
  if (contentLength !== undefined) env.CONTENT_LENGTH = contentLength;
  // git sends big POST bodies gzipped; the backend inflates them itself when told.
  const encoding = header('content-encoding');
  if (encoding !== undefined) env.HTTP_CONTENT_ENCODING = encoding;
  // Protocol v2 is negotiated by this header; Apache setups pass it on the same way.
  const protocol = header('git-protocol');
  if (protocol !== undefined && /^[\w.:=-]+$/.test(protocol)) env.GIT_PROTOCOL = protocol;
  if (user !== undefined) env.REMOTE_USER = user;
  return env;
}

/** Parses a CGI response head (header lines without the blank line); `Status:` sets the status. */
export function parseCgiHead(text: string): CgiHead {
  let status = 200;
  let statusText: string | undefined;
  const headers: Record<string, string | string[]> = {};
  for (const line of text.split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim();
    const value = line.slice(colon + 1).trim();
    if (name.toLowerCase() === 'status') {
      const m = /^(\d{3})\s*(.*)$/.exec(value);
      if (m?.[1] !== undefined) {
        status = Number(m[1]);
        statusText = m[2] === '' ? undefined : m[2];
      }
      continue;
    }
    const prev = headers[name];
    headers[name] = prev === undefined ? value : [...(Array.isArray(prev) ? prev : [prev]), value];
  }
  return { status, statusText, headers };
}

/** Where the CGI head ends: the index of the blank line and the length of its separator. */
function headerEnd(buf: Buffer): { at: number; length: number } | null {
  const crlf = buf.indexOf('\r\n\r\n');
  const lf = buf.indexOf('\n\n');
  if (crlf !== -1 && (lf === -1 || crlf < lf)) return { at: crlf, length: 4 };
  return lf === -1 ? null : { at: lf, length: 2 };
}

// Comparing fixed-length digests keeps the comparison constant-time whatever the header length.
function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

function sameDigest(a: Buffer, b: Buffer): boolean {
  return timingSafeEqual(a, b);
}
