/** Pod proxy: forwards a request to the pod's published port on 127.0.0.1 and streams the answer back. */
import { request, type IncomingMessage, type ServerResponse } from 'node:http';
import { StatusError } from './status.js';

/** Hop-by-hop headers a proxy does not forward (RFC 7230), and the API server's own credentials. */
const DROP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'te',
  'trailer',
  'host',
  'authorization',
]);

/** Forwards `req` to `127.0.0.1:port` at `path`; a refused connection answers 503 as the API server does. */
export function forward(
  port: number,
  path: string,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const headers = Object.fromEntries(
    Object.entries(req.headers).filter(([k]) => !DROP.has(k.toLowerCase())),
  );
  return new Promise((resolve, reject) => {
    // Lenient parsing, as Go's client is: busybox httpd's CGI answers end header lines with a bare LF.
    const out = request(
      {
        host: '127.0.0.1',
        port,
        method: req.method,
        path,
        headers: { ...headers, host: `127.0.0.1:${port}` },
        insecureHTTPParser: true,
      },
      (up) => {
        const h = Object.fromEntries(
          Object.entries(up.headers).filter(([k]) => !DROP.has(k.toLowerCase())),
        );
        res.writeHead(up.statusCode ?? 502, h as Record<string, string>);
        up.pipe(res);
        up.on('end', resolve);
        up.on('error', reject);
      },
    );
    out.on('error', (e) =>
      reject(
        new StatusError(
          503,
          'ServiceUnavailable',
          `error trying to reach service: dial tcp 127.0.0.1:${port}: ${e.message}`,
        ),
      ),
    );
    req.pipe(out);
  });
}
