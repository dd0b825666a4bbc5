/** JSON schemas shared by routes. Objects stay open so new fields reach clients without a schema bump. */
const open = { type: 'object', additionalProperties: true } as const;

/** An app or environment name: lowercase, a letter first, as the spec validates it. */
export const nameSchema = { type: 'string', pattern: '^[a-z][a-z0-9-]{0,62}$' } as const;

export const appNameParam = {
  type: 'object',
  required: ['app'],
  properties: { app: nameSchema },
} as const;

export const buildIdParam = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', pattern: '^[a-z]+-[a-z0-9]+-[a-z0-9]+$' } },
} as const;

export const imageSchema = {
  ...open,
  properties: { tag: { type: 'string' }, digest: { type: 'string' }, pinned: { type: 'string' } },
} as const;

/** A commit as git and its forge tell it: message, author, and the pull request it came from. */
export const commitSchema = {
  ...open,
  properties: {
    sha: { type: 'string' },
    message: { type: 'string', description: 'first line' },
    author: { type: 'string' },
    at: { type: 'string' },
    prNumber: { type: 'integer' },
    prTitle: { type: 'string' },
    prUrl: { type: 'string' },
  },
} as const;

export const revisionSchema = {
  ...open,
  properties: {
    app: { type: 'string' },
    sha: { type: 'string' },
    branch: { type: 'string' },
    commit: open,
    image: imageSchema,
  },
} as const;

export const buildSchema = {
  ...open,
  properties: {
    id: { type: 'string' },
    app: { type: 'string' },
    sha: { type: 'string' },
    status: { type: 'string' },
    image: imageSchema,
    failure: open,
  },
} as const;

export const appSchema = {
  ...open,
  properties: { name: { type: 'string' }, repo: { type: 'string' }, path: { type: 'string' } },
} as const;

/** `?from=N`: read a growing list (build log lines, rollout events) from item N on. */
export const fromQuery = {
  type: 'object',
  additionalProperties: false,
  // Bounded: a number past 2^53 reaches Redis as `1e+31`, which it refuses (found by the fuzzer).
  properties: { from: { type: 'integer', minimum: 0, maximum: 2_147_483_647 } },
} as const;
