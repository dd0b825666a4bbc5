import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

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
    ignores: ['src/runtime/**', 'src/edge/kubernetes/**', 'src/rollout/**'],
    rules: {
      'no-restricted-imports': ['error', { paths: ['dockerode', '@kubernetes/client-node'] }],
    },
  },
  {
    files: ['src/edge/kubernetes/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { paths: ['dockerode'] }] },
  },
  {
    // The rollout core decides; it never performs I/O (DESIGN.md, STYLE.md habit 1).
    files: ['src/rollout/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            'node:*',
            'dockerode',
            '@kubernetes/*',
            'ioredis',
            'bullmq',
            'fastify',
            'isomorphic-git',
          ],
        },
      ],
    },
  },
);
