import type { FastifyInstance } from 'fastify';
import type { ControllerConfig } from '../config/controller-config.js';
import { currentOf, type Current } from '../config/live-config.js';
import { redactConfig } from '../config/redact.js';
import type { ReloadReport } from '../config/reload.js';
import { GantryError } from '../errors.js';
import { requireRole, type TokenSource } from './auth.js';

export interface ConfigRoutesDeps {
  tokens: TokenSource;
  /** The effective configuration; absent when the server is built without one (tests, tools). */
  config?: Current<ControllerConfig> | undefined;
  /** Re-reads the config file and applies what reloads live; absent where nothing can reload. */
  reloadConfig?: (() => ReloadReport) | undefined;
}

const names = { type: 'array', items: { type: 'string' } } as const;
const nameChanges = {
  type: 'object',
  required: ['added', 'removed', 'changed'],
  properties: { added: names, removed: names, changed: names },
} as const;

/** The admin's view of the controller's configuration, every secret redacted, and its reload. */
export async function configRoutes(app: FastifyInstance, deps: ConfigRoutesDeps): Promise<void> {
  app.addHook('onRequest', requireRole(deps.tokens, 'admin'));
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
      return redactConfig(currentOf(deps.config));
    },
  );
  app.post(
    '/api/config/reload',
    {
      schema: {
        tags: ['system'],
        summary: 'Re-read the config file: apply repos, tokens and notifications (admin)',
        description:
          'Validates the whole file first: an invalid one is answered 400 GANTRY_ERR_CONFIG_REJECTED ' +
          'with `file:line:col` problems in `details.errors`, and the running config is kept. ' +
          'Other changed values are listed in `changes.needsRestart` and not applied. Names only, ' +
          'never secrets. 409 GANTRY_ERR_CONFIG_NO_FILE when the controller was not started from a file.',
        response: {
          200: {
            type: 'object',
            required: ['file', 'applied', 'changes'],
            properties: {
              file: { type: 'string' },
              applied: { type: 'boolean' },
              changes: {
                type: 'object',
                required: ['repos', 'tokens', 'notifications', 'needsRestart'],
                properties: {
                  repos: nameChanges,
                  tokens: nameChanges,
                  notifications: nameChanges,
                  needsRestart: names,
                },
              },
            },
          },
        },
      },
    },
    async () => {
      if (!deps.reloadConfig) {
        throw new GantryError(
          'GANTRY_ERR_CONFIG_NO_FILE',
          'this server has no config file to re-read; restart it to change its config',
        );
      }
      return deps.reloadConfig();
    },
  );
}
