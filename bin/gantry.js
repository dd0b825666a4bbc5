#!/usr/bin/env node
// Runs the TypeScript sources directly (tsx), so a clone needs no build step; `npm run build`
// produces dist/ for packaging, which this prefers when present.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const compiled = new URL('../dist/cli/main.js', import.meta.url);
if (existsSync(fileURLToPath(compiled))) {
  await import(compiled.href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import(new URL('../src/cli/main.ts', import.meta.url).href);
}
