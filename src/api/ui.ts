import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';

/**
 * The dashboard's policy: scripts, styles and fetches from this origin only, no inline script,
 * no framing. The UI sends its token in the Authorization header (never a cookie), so a page
 * elsewhere cannot act with it; the CSP keeps injected markup from running either.
 */
export const UI_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy': UI_CSP,
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
};

/** Where the static assets are: next to this file's layer when run from src, or src/ui from dist. */
export function uiRoot(): string {
  const candidates = ['../ui/', '../../src/ui/'].map((p) =>
    fileURLToPath(new URL(p, import.meta.url)),
  );
  return candidates.find((dir) => existsSync(`${dir}index.html`)) ?? candidates[0]!;
}

/** The web dashboard: `/` is its one page, `/ui/*` its scripts and styles (no auth: the API has it). */
export async function uiRoutes(app: FastifyInstance, opts: { root?: string } = {}): Promise<void> {
  app.addHook('onSend', async (_req, reply, payload) => {
    for (const [k, v] of Object.entries(SECURITY_HEADERS)) reply.header(k, v);
    return payload;
  });
  await app.register(fastifyStatic, {
    root: opts.root ?? uiRoot(),
    prefix: '/ui/',
    index: false,
    // Small files that change with each release: let the browser revalidate rather than guess.
    cacheControl: true,
    maxAge: 0,
  });
  app.get('/', (_req, reply) => reply.type('text/html').sendFile('index.html'));
}
