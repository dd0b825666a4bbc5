import type { FastifyError, FastifyInstance } from 'fastify';
import { isGantryError } from '../errors.js';

/** API error body: a stable code and a message a person can act on. */
export interface ApiError {
  code: string;
  message: string;
  details?: Record<string, unknown>;
}

/**
 * Every error answer goes through here once: Gantry errors carry their own status and code;
 * fastify's (body too large, validation) keep theirs; anything else is a 500 that hides its
 * internals from the caller but is logged in full.
 */
export function registerErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError | Error, req, reply) => {
    if (isGantryError(err)) {
      const body: ApiError = { code: err.code, message: err.message };
      if (err.details) body.details = err.details;
      if (err.status >= 500) req.log.warn({ err }, err.message);
      return reply.status(err.status).send(body);
    }
    const fe = err as FastifyError;
    if (fe.validation) {
      return reply.status(400).send({ code: 'GANTRY_ERR_BAD_REQUEST', message: fe.message });
    }
    if (fe.statusCode !== undefined && fe.statusCode < 500) {
      return reply
        .status(fe.statusCode)
        .send({ code: fe.code ?? 'GANTRY_ERR_BAD_REQUEST', message: fe.message });
    }
    req.log.error({ err }, 'unhandled error');
    return reply.status(500).send({ code: 'GANTRY_ERR_INTERNAL', message: 'internal error' });
  });
  app.setNotFoundHandler((req, reply) =>
    reply
      .status(404)
      .send({ code: 'GANTRY_ERR_NOT_FOUND', message: `no route ${req.method} ${req.url}` }),
  );
}
