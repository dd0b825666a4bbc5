import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

/** Files that must stay pure: decisions only, no I/O library and no module of Gantry's that does I/O. */
export const PURE_CORE = [
  'src/rollout/**/*.ts',
  'src/reconcile/heal.ts',
  'src/reconcile/status.ts',
];

/** What the pure core may not import; `import type` of Gantry's own records stays allowed. */
export const PURE_CORE_IMPORTS = {
  patterns: [
    {
      group: [
        'node:*',
        // Node's built-ins without the `node:` prefix too: `fs` is as much I/O as `node:fs`.
        ...['fs', 'fs/*', 'net', 'http', 'https', 'child_process', 'dgram', 'dns', 'tls'],
        ...['worker_threads', 'cluster', 'os', 'process', 'stream', 'readline', 'timers'],
        'dockerode',
        '@kubernetes/*',
        'ioredis',
        'bullmq',
        'fastify',
        'isomorphic-git',
        'isomorphic-git/*',
        'undici',
        'pino',
      ],
      message: 'the pure core decides; I/O belongs to the layer that applies its decisions',
    },
    {
      // Gantry's own I/O modules: values from them would smuggle I/O in; their types may be named.
      group: [
        '**/store/store.js',
        '**/redis.js',
        '**/queue/**',
        '**/runtime/docker/**',
        '**/runtime/kubernetes/**',
        '**/edge/**',
        '**/deploy/**',
        '**/source/**',
      ],
      allowTypeImports: true,
      message: 'the pure core decides; I/O belongs to the layer that applies its decisions',
    },
  ],
};

export default tseslint.config(
  { ignores: ['node_modules', 'dist', '.gantry', 'charts'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
    },
  },
  {
    // The dashboard runs in the browser: plain ES modules, no bundler.
    files: ['src/ui/**/*.js'],
    languageOptions: { globals: { ...globals.browser }, sourceType: 'module' },
  },
  // One `no-restricted-imports` per file: a later block matching the same file replaces an
  // earlier one's options rather than adding to them, so the blocks below never overlap.
  {
    // Only the runtime layer talks to the engines; the Kubernetes Service edge also reads pods.
    files: ['src/**/*.ts'],
    ignores: ['src/runtime/**', 'src/edge/kubernetes/**', ...PURE_CORE],
    rules: {
      'no-restricted-imports': ['error', { paths: ['dockerode', '@kubernetes/client-node'] }],
    },
  },
  {
    files: ['src/edge/kubernetes/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { paths: ['dockerode'] }] },
  },
  {
    // The rollout core and the reconciler's decision decide; they never perform I/O (DESIGN.md,
    // STYLE.md habit 1). test/unit/lint-guards.test.ts proves this rule fires.
    files: PURE_CORE,
    rules: { 'no-restricted-imports': ['error', PURE_CORE_IMPORTS] },
  },
);
