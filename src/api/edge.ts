import type { FastifyInstance } from 'fastify';
import type { Edge } from '../edge/edge.js';
import { GantryError } from '../errors.js';
import { requireRole, type TokenSource } from './auth.js';

export interface EdgeRoutesDeps {
  tokens: TokenSource;
  /** Absent when this controller runs no deploys (`deploy.enabled: false`). */
  edge?: Edge | undefined;
}

/**
 * `GET /api/edge/ca`: the root certificate of the edge's own CA, which signs the certificates of
 * local domains (`tls internal`). A root certificate is public by nature — every client is meant
 * to hold it — so any token may read it; trusting it is the client's decision.
 */
export async function edgeRoutes(app: FastifyInstance, deps: EdgeRoutesDeps): Promise<void> {
  app.addHook('onRequest', requireRole(deps.tokens, 'viewer'));
  app.get(
    '/api/edge/ca',
    {
      schema: {
        tags: ['system'],
        summary: "The edge's internal CA root (PEM): trust it to reach local domains over HTTPS",
        description:
          'Answers `application/x-pem-file`, e.g. `curl --cacert <(gantry api /api/edge/ca) https://shop.localhost`. ' +
          '404 GANTRY_ERR_NOT_FOUND when this controller drives no edge that terminates TLS.',
        response: { 200: { type: 'string' } },
      },
    },
    async (_req, reply) => {
      const edge = deps.edge;
      if (edge?.internalCaRoot === undefined) {
        throw new GantryError(
          'GANTRY_ERR_NOT_FOUND',
          'this controller has no edge with its own CA',
        );
      }
      const pem = await edge.internalCaRoot();
      return reply.type('application/x-pem-file').send(pem);
    },
  );
}
