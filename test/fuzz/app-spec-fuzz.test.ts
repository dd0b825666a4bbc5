/**
 * The `gantry.yaml` loader under random and mutated input: every input is either a valid spec or
 * a GantryError with GANTRY_ERR_SPEC_INVALID and `file:line:col` problems, never a crash (a
 * TypeError, a RangeError, a stack overflow) that would fail a build with an internal error.
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseDocument, stringify } from 'yaml';
import { parseAppSpec, type AppSpec } from '../../src/config/app-spec.js';
import { specForEnv } from '../../src/config/spec-for-env.js';
import { GantryError } from '../../src/errors.js';

const EXAMPLE = readFileSync(new URL('../../examples/hello/gantry.yaml', import.meta.url), 'utf8');
/** Every section the loader knows, so mutations reach each branch of it. */
const FULL = `app: shop
build: { dockerfile: Dockerfile, context: ., args: { NODE_VERSION: "20" } }
watch: [src, package.json]
run:
  port: 8080
  replicas: 3
  env: { LOG_LEVEL: info }
  secrets: [DATABASE_URL]
  resources: { cpu: 0.5, memory: 256Mi }
health:
  http: { path: /healthz, expect: 200 }
  interval: 2s
  timeout: 1s
  startPeriod: 10s
  healthyThreshold: 2
  unhealthyThreshold: 3
rollout: { maxSurge: 1, maxUnavailable: 0, progressDeadline: 120s, autoRollback: true }
environments:
  production: { branch: main, target: local, domain: shop.localhost }
  staging:
    branch: develop
    replicas: 1
    env: { LOG_LEVEL: debug }
`;
const SEEDS = [EXAMPLE, FULL];

type Outcome = { ok: true; spec: AppSpec } | { ok: false; error: GantryError };

/** Parses, and fails the property on anything but a spec or a GANTRY_ERR_SPEC_INVALID. */
function load(text: string, file = 'gantry.yaml'): Outcome {
  try {
    const spec = parseAppSpec(text, file);
    // What the controller does next with a spec must not crash either.
    for (const env of Object.keys(spec.environments)) specForEnv(spec, env);
    return { ok: true, spec };
  } catch (e) {
    if (!(e instanceof GantryError)) throw e;
    expect(e.code).toBe('GANTRY_ERR_SPEC_INVALID');
    // Each problem says where: file:line:col.
    expect(e.message).toMatch(/gantry\.yaml(:\d+:\d+)?/);
    return { ok: false, error: e };
  }
}

/** A value in a parsed seed: its path, so one can be replaced or removed. */
function paths(value: unknown, at: (string | number)[] = []): (string | number)[][] {
  if (Array.isArray(value)) return [at, ...value.flatMap((v, i) => paths(v, [...at, i]))];
  if (value !== null && typeof value === 'object') {
    return [at, ...Object.entries(value).flatMap(([k, v]) => paths(v, [...at, k]))];
  }
  return [at];
}

const isMap = (v: unknown) => v !== null && typeof v === 'object' && !Array.isArray(v);
const valueAt = (v: unknown, at: (string | number)[]): unknown =>
  at.reduce<unknown>((o, k) => (o as Record<string | number, unknown>)[k], v);

const json = fc.jsonValue({ maxDepth: 3 });
const weird = fc.oneof(
  json,
  fc.constantFrom(
    '__proto__',
    'constructor',
    '',
    '-1',
    '1e309',
    '0x10',
    '../../etc',
    '/abs',
    'a'.repeat(300),
    '\u0000',
    '${HOME}',
    '*anchor',
    '!!js/function',
  ),
  fc.integer(),
  fc.double(),
  fc.constant(null),
);

describe('the gantry.yaml loader never crashes', () => {
  it('accepts its seeds', () => {
    for (const seed of SEEDS) expect(load(seed).ok).toBe(true);
  });

  it('on arbitrary text', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 400 }), (text) => {
        load(text);
      }),
      { numRuns: 500 },
    );
  });

  it('on arbitrary YAML documents', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string({ maxLength: 12 }), json), (doc) => {
        load(stringify(doc));
      }),
      { numRuns: 300 },
    );
  });

  it('on real specs with one value replaced, removed, or a key added', () => {
    const mutation = fc.record({
      seed: fc.constantFrom(...SEEDS),
      pick: fc.nat(),
      op: fc.constantFrom('replace', 'remove', 'add'),
      key: fc.oneof(fc.string({ maxLength: 10 }), fc.constantFrom('__proto__', 'constructor')),
      value: weird,
    });
    fc.assert(
      fc.property(mutation, ({ seed, pick, op, key, value }) => {
        const doc = parseDocument(seed);
        const js: unknown = doc.toJS();
        if (op === 'add') {
          // Into a mapping: a sequence takes only indexes.
          const maps = paths(js).filter((p) => isMap(valueAt(js, p)));
          doc.setIn([...maps[pick % maps.length]!, key], value);
        } else {
          const all = paths(js).filter((p) => p.length > 0);
          const at = all[pick % all.length]!;
          if (op === 'replace') doc.setIn(at, value);
          else doc.deleteIn(at);
        }
        load(String(doc));
      }),
      { numRuns: 1000 },
    );
  });

  it('on real specs with bytes inserted, deleted or repeated', () => {
    const edit = fc.record({
      seed: fc.constantFrom(...SEEDS),
      at: fc.nat(),
      cut: fc.nat({ max: 20 }),
      insert: fc.oneof(
        fc.string({ maxLength: 8 }),
        fc.constantFrom(':', '- ', '{', '[', '&a ', '*a', '\n  ', '\t', '#', '"', "'", '!!str '),
      ),
      repeat: fc.nat({ max: 3 }),
    });
    fc.assert(
      fc.property(edit, ({ seed, at, cut, insert, repeat }) => {
        const i = at % (seed.length + 1);
        load(seed.slice(0, i) + insert.repeat(repeat + 1) + seed.slice(i + cut));
      }),
      { numRuns: 1000 },
    );
  });

  it('on alias bombs, deep nesting and huge numbers', () => {
    const bomb = [
      'a: &a ["x","x","x","x","x","x","x","x","x"]',
      ...Array.from({ length: 9 }, (_, i) => {
        const prev = i === 0 ? 'a' : `b${i - 1}`;
        return `b${i}: &b${i} [*${prev},*${prev},*${prev},*${prev},*${prev},*${prev},*${prev},*${prev},*${prev}]`;
      }),
      'app: shop',
    ].join('\n');
    for (const text of [
      bomb,
      `app: shop\nrun: ${'['.repeat(5000)}${']'.repeat(5000)}`,
      `app: shop\nrun: { replicas: ${'9'.repeat(400)} }`,
      'app: shop\nenvironments: { __proto__: { branch: main } }',
    ]) {
      expect(load(text).ok).toBe(false);
    }
  });
});
