/**
 * Writes the published JSON Schema of `gantry.yaml` (schema/gantry.schema.json) from the TS const
 * the controller validates with, so editors and the controller can never disagree.
 * Usage: npx tsx scripts/write-schema.ts [--check]   (--check: exit 1 if the file is stale)
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { format, resolveConfig } from 'prettier';
import { appSpecJsonSchema } from '../src/config/app-spec-schema.js';

const target = fileURLToPath(new URL('../schema/gantry.schema.json', import.meta.url));

// Formatted as prettier would, so `npm run lint` (prettier --check) accepts the generated file.
const config = (await resolveConfig(target)) ?? {};
const text = await format(JSON.stringify(appSpecJsonSchema), { ...config, parser: 'json' });

if (process.argv.includes('--check')) {
  const current = await readFile(target, 'utf8').catch(() => '');
  if (current !== text) {
    process.stderr.write(`${target} is stale: run npx tsx scripts/write-schema.ts\n`);
    process.exit(1);
  }
} else {
  await mkdir(dirname(target), { recursive: true });
  await writeFile(target, text);
  process.stdout.write(`wrote ${target}\n`);
}
