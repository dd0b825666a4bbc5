/**
 * JSON Schema validation for YAML config files, with messages a person can act on: Ajv's errors
 * are mapped back to source positions and phrased from the schema itself (`run.port must be an
 * integer from 1 to 65535`), preferring the schema's `errorMessage`/`patternErrorMessage`.
 */
import { Ajv, type AnySchema, type ErrorObject, type ValidateFunction } from 'ajv';
import { redactUrl } from './redact-url.js';
import {
  formatPath,
  issueAt,
  type PathSegment,
  type SourceIssue,
  type YamlSource,
} from './yaml-source.js';

/** Compiles a config schema: all errors, defaults filled in, strict mode, editor annotations allowed. */
export function compileSchema<T>(schema: AnySchema): ValidateFunction<T> {
  const ajv = new Ajv({
    strict: true,
    // `not: { anyOf: [{ required: [a, b] }] }` ("not both") names properties declared one level up,
    // which strictRequired cannot see; every other strict check stays on.
    strictRequired: false,
    allErrors: true,
    useDefaults: true,
    // Messages are phrased from the failing schema and the offending value, which only verbose errors carry.
    verbose: true,
  });
  // Annotations only: VS Code shows them, and so do the messages below.
  ajv.addKeyword({ keyword: 'errorMessage', schemaType: 'string' });
  ajv.addKeyword({ keyword: 'patternErrorMessage', schemaType: 'string' });
  return ajv.compile<T>(schema);
}

/** Positioned, plain-English issues for the errors of a validator run on `source.value`. */
export function schemaIssues(
  errors: readonly ErrorObject[] | null | undefined,
  source: YamlSource,
): SourceIssue[] {
  return (errors ?? []).flatMap((e) => issuesFor(e, source));
}

type SchemaNode = Readonly<Record<string, unknown>>;

function issuesFor(e: ErrorObject, source: YamlSource): SourceIssue[] {
  const path = pointerToPath(e.instancePath, source.value);
  const parent: SchemaNode = isRecord(e.parentSchema) ? e.parentSchema : {};
  const params: SchemaNode = e.params;
  switch (e.keyword) {
    case 'propertyNames':
      // Ajv reports the failing name once more, as its own error carrying `propertyName`; that one is used.
      return [];
    case 'additionalProperties': {
      const name = String(params.additionalProperty);
      const known = Object.keys(isRecord(parent.properties) ? parent.properties : {});
      const hint = suggest(name, known);
      return [issueAt(source, [...path, name], `is not a known key${hint}`, 'key')];
    }
    case 'required':
      return [issueAt(source, path, `is missing ${String(params.missingProperty)}`)];
    case 'uniqueItems': {
      const [first, again] = [Number(params.j), Number(params.i)].sort((a, b) => a - b);
      const predicate = `repeats ${formatPath([...path, first ?? 0])}`;
      return [issueAt(source, [...path, again ?? 0], predicate)];
    }
    case 'not': {
      const own = isRecord(e.schema) ? e.schema : {};
      return [
        issueAt(
          source,
          path,
          typeof own.errorMessage === 'string' ? own.errorMessage : 'is not allowed',
        ),
      ];
    }
    default:
      if (e.propertyName !== undefined) {
        const subject = formatPath(path) || 'the document';
        const message = `${subject} key ${JSON.stringify(e.propertyName)} is not valid: ${predicateOf(parent)}`;
        const keyPath = [...path, e.propertyName];
        return [{ ...source.locate(keyPath, 'key'), path: formatPath(keyPath), message }];
      }
      return [issueAt(source, path, `${predicateOf(parent)} (got ${describeValue(e.data, path)})`)];
  }
}

/** What a value must be, phrased from its schema: "must be an integer ≥ 0". */
function predicateOf(s: SchemaNode): string {
  if (typeof s.errorMessage === 'string') return s.errorMessage;
  if (typeof s.patternErrorMessage === 'string') return s.patternErrorMessage;
  if (Array.isArray(s.enum))
    return `must be one of ${s.enum.map((v) => JSON.stringify(v)).join(', ')}`;
  const types = Array.isArray(s.type) ? s.type : [s.type];
  return `must be ${types.map((t) => typeNoun(String(t), s)).join(' or ')}`;
}

function typeNoun(type: string, s: SchemaNode): string {
  switch (type) {
    case 'integer':
    case 'number':
      return `${type === 'integer' ? 'an integer' : 'a number'}${bounds(s)}`;
    case 'string':
      if (typeof s.minLength !== 'number' || s.minLength === 0) return 'a string';
      return s.minLength === 1
        ? 'a non-empty string'
        : `a string of at least ${s.minLength} characters`;
    case 'boolean':
      return 'true or false';
    case 'object':
      return typeof s.minProperties === 'number' && s.minProperties > 0
        ? 'a non-empty mapping'
        : 'a mapping';
    case 'array': {
      const list = typeof s.minItems === 'number' && s.minItems > 0 ? 'a non-empty list' : 'a list';
      const items = isRecord(s.items) && s.items.type === 'string' ? ' of strings' : '';
      return list + items;
    }
    default:
      return 'valid';
  }
}

function bounds(s: SchemaNode): string {
  const num = (k: string) => (typeof s[k] === 'number' ? (s[k] as number) : undefined);
  const [min, max, xmin, xmax] = [
    num('minimum'),
    num('maximum'),
    num('exclusiveMinimum'),
    num('exclusiveMaximum'),
  ];
  if (min !== undefined && max !== undefined) return ` from ${min} to ${max}`;
  const parts = [
    min !== undefined ? `≥ ${min}` : '',
    xmin !== undefined ? `> ${xmin}` : '',
    max !== undefined ? `≤ ${max}` : '',
    xmax !== undefined ? `< ${xmax}` : '',
  ].filter((p) => p !== '');
  return parts.length === 0 ? '' : ` ${parts.join(' and ')}`;
}

/**
 * Keys whose values are credentials (`webhookSecret`, `password`, `token`, `hash`, `apiKey`…).
 * `…Env` and `…File` keys hold the *name* of a variable or file, which is safe to quote.
 */
const SECRET_KEY = /secret|passw|token|hash|key|cred|auth/i;
const NAMES_A_SOURCE = /(Env|File|Files)$/;

/**
 * Whether the value at `path` is a credential, judged by the key that holds it. A list item is
 * not judged by the list's key: `secrets: [DB_PASSWORD]` lists names, not values.
 */
export function isSecretPath(path: readonly PathSegment[]): boolean {
  const key = path[path.length - 1];
  return typeof key === 'string' && SECRET_KEY.test(key) && !NAMES_A_SOURCE.test(key);
}

/**
 * A short rendering of an offending value for a message. A credential is never quoted (a message
 * ends up in logs, terminals and API answers), only its length; a URL loses its credentials.
 */
function describeValue(v: unknown, path: readonly PathSegment[]): string {
  if (v === null || v === undefined) return 'an empty value';
  if (Array.isArray(v)) return v.length === 0 ? 'an empty list' : 'a list';
  if (typeof v === 'object') return Object.keys(v).length === 0 ? 'an empty mapping' : 'a mapping';
  if (isSecretPath(path)) {
    return typeof v === 'string' ? `a hidden value of ${v.length} characters` : 'a hidden value';
  }
  if (typeof v === 'string') {
    const shown = /^[a-z][a-z0-9+.-]*:\/\//i.test(v) ? redactUrl(v) : v;
    return JSON.stringify(shown.length > 40 ? `${shown.slice(0, 40)}…` : shown);
  }
  return String(v);
}

/** JSON Pointer → path, with sequence indexes as numbers (told apart by looking at the data). */
function pointerToPath(pointer: string, data: unknown): PathSegment[] {
  if (pointer === '') return [];
  const path: PathSegment[] = [];
  let node = data;
  for (const raw of pointer.slice(1).split('/')) {
    const seg = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(node)) {
      path.push(Number(seg));
      node = node[Number(seg)];
    } else {
      path.push(seg);
      node = isRecord(node) ? node[seg] : undefined;
    }
  }
  return path;
}

/** "; did you mean port?" for a near miss, else the keys that are allowed. */
function suggest(name: string, known: readonly string[]): string {
  if (known.length === 0) return '';
  const near = known.find(
    (k) => editDistance(name.toLowerCase(), k.toLowerCase()) <= Math.min(2, k.length >> 1),
  );
  return near !== undefined ? `; did you mean ${near}?` : `; expected one of ${known.join(', ')}`;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      row.push(Math.min((prev[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost));
    }
    prev = row;
  }
  return prev[b.length] ?? 0;
}

function isRecord(v: unknown): v is Readonly<Record<string, unknown>> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
