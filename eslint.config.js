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
  {
    // The rollout core decides; it never performs I/O (DESIGN.md, STYLE.md habit 1).
    files: ['src/rollout/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: ['node:*', 'dockerode', 'ioredis', 'bullmq', 'fastify', 'isomorphic-git'] },
      ],
    },
  },
  {
    // Only the runtime layer talks to the Docker engine.
    files: ['src/**/*.ts'],
    ignores: ['src/runtime/**'],
    rules: { 'no-restricted-imports': ['error', { paths: ['dockerode'] }] },
  },
);
