import type { FastifyInstance } from 'fastify';
import type { ControllerConfig, TokenConfig } from '../config/controller-config.js';
import { redactConfig } from '../config/redact.js';
import { GantryError } from '../errors.js';
import { requireRole } from './auth.js';

export interface ConfigRoutesDeps {
  tokens: TokenConfig[];
  /** The effective configuration; absent when the server is built without one (tests, tools). */
  config?: ControllerConfig | undefined;
}

/** The admin's view of the controller's configuration, every secret redacted. */
export async function configRoutes(app: FastifyInstance, deps: ConfigRoutesDeps): Promise<void> {
  app.addHook('preHandler', requireRole(deps.tokens, 'admin'));
  app.get(
    '/api/config',
    {
      schema: {
        tags: ['system'],
        summary: 'The effective controller configuration, secrets redacted (admin)',
        response: { 200: { type: 'object', additionalProperties: true } },
      },
    },
    async () => {
      if (!deps.config) throw new GantryError('GANTRY_ERR_NOT_FOUND', 'no configuration loaded');
      return redactConfig(deps.config);
    },
  );
}
