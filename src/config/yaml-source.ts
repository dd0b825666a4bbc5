/**
 * Safe YAML for config files people write by hand: one document, plain data only, bounded in size
 * and depth, and every problem reported as `file:line:col: message`. The parsed value keeps a link
 * to the source so later checks (a JSON Schema, cross-field rules) can point at the right spot too.
 * Used for `gantry.yaml` and reusable by any other YAML file loader.
 */
import { Composer, LineCounter, Parser, isAlias, isMap, isScalar, isSeq, visit } from 'yaml';
import type { CST, Document, YAMLError } from 'yaml';
import { GantryError, type ErrorCode } from '../errors.js';

/** A step into a document: a mapping key or a sequence index. */
export type PathSegment = string | number;

/** A 1-based line and column in the source text. */
export interface SourcePosition {
  readonly line: number;
  readonly col: number;
}

/** One problem found in a file: where it is, the data path (`run.replicas`), and the full message. */
export interface SourceIssue extends SourcePosition {
  readonly path: string;
  readonly message: string;
}

/** A parsed YAML file: its plain value and a way back from a data path to a source position. */
export interface YamlSource {
  readonly file: string;
  /** The document as JSON-like data: objects, arrays, strings, finite numbers, booleans, null. */
  readonly value: unknown;
  /**
   * Where the node at `path` starts, or its nearest existing ancestor (so a missing key points at
   * the mapping that lacks it); `at: 'key'` points at the mapping key instead of its value.
   */
  locate(path: readonly PathSegment[], at?: 'value' | 'key'): SourcePosition;
}

export interface YamlSourceOptions {
  /** The name used in messages, e.g. `services/api/gantry.yaml`. */
  readonly file: string;
  /** The catalogue code of the error thrown when the file is not acceptable. */
  readonly code: ErrorCode;
  /** Larger inputs are refused before parsing (default 256 KiB). */
  readonly maxBytes?: number;
  /** Deeper nesting is refused before composing (default 32 levels). */
  readonly maxDepth?: number;
  /**
   * Rewrites each string scalar value (not keys, not comments) after parsing and checking, before
   * the document becomes plain data: what it returns is inserted as one scalar, so no text it holds
   * can add keys or change the structure. `plain` says the scalar was written unquoted.
   */
  readonly scalar?: (value: string, at: { plain: boolean; line: number; col: number }) => unknown;
}

export const DEFAULT_MAX_BYTES = 256 * 1024;
export const DEFAULT_MAX_DEPTH = 32;
/** Past this many, a message lists no more problems (details still carry all of them). */
const MAX_LISTED_ISSUES = 50;

const YAML_OPTIONS = {
  // YAML 1.2 core schema: `yes`, `on` and `0777` stay strings/decimals, no timestamps, no `<<` merges.
  version: '1.2',
  schema: 'core',
  merge: false,
  // Duplicate keys are found by `walk` below, which can say where the first one was.
  uniqueKeys: false,
  strict: true,
  prettyErrors: false,
} as const;

/** Parses one YAML document safely; throws GantryError(`code`) listing every problem as `file:line:col: …`. */
export function parseYamlSource(text: string, opts: YamlSourceOptions): YamlSource {
  const { file, code } = opts;
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > maxBytes) {
    const issue = {
      line: 1,
      col: 1,
      path: '',
      message: `the file is ${bytes} bytes; the limit is ${maxBytes}`,
    };
    throw sourceError(code, file, [issue]);
  }
  const source = text.startsWith('\uFEFF') ? text.slice(1) : text;
  const lineCounter = new LineCounter();
  const at = (offset: number): SourcePosition => lineCounter.linePos(offset);

  const tokens = Array.from(new Parser(lineCounter.addNewLine).parse(source));
  // Composing is recursive: a few thousand nested `[` or `? ` can exhaust the stack, and in yaml 2.9
  // that can abort the whole process (a fatal V8 error, not a catchable RangeError). The CST walk is
  // iterative, so depth is measured there, before composing.
  const deep = firstTooDeep(tokens, opts.maxDepth ?? DEFAULT_MAX_DEPTH);
  if (deep !== undefined) {
    const message = `nesting is deeper than ${opts.maxDepth ?? DEFAULT_MAX_DEPTH} levels`;
    throw sourceError(code, file, [{ ...at(deep), path: '', message }]);
  }

  const docs = Array.from(new Composer(YAML_OPTIONS).compose(tokens, true, source.length));
  const [doc, second] = docs;
  if (doc === undefined) throw new Error('yaml Composer emitted no document despite forceDoc');
  const issues: SourceIssue[] = [];
  if (second !== undefined) {
    const message = 'a second YAML document starts here; the file must hold exactly one';
    issues.push({ ...at(second.range[0]), path: '', message });
  }
  for (const e of [...doc.errors, ...doc.warnings]) {
    // Unknown tags also warn; `walk` reports every tag in one consistent way.
    if (e.code !== 'TAG_RESOLVE_FAILED') issues.push(yamlIssue(e, at));
  }
  // After a syntax error the composed tree is a best guess; checking its keys would only add noise.
  const w: Walk = { text: source, at, aliases: [], issues };
  if (doc.errors.length === 0) walk(doc.contents, [], w);
  const [alias] = w.aliases;
  if (alias !== undefined) {
    // Aliases are refused outright rather than merely counted: an app spec has no need for them, an
    // alias bomb then costs nothing (nothing is ever expanded), and every value has exactly one
    // position to report errors at. `maxAliasCount: 0` below is a second lock on the same door.
    const message = `YAML aliases (*${alias.source}) are not allowed (found ${w.aliases.length}); write the value out in full`;
    issues.push({ ...at(alias.offset), path: '', message });
  }
  if (issues.length > 0) throw sourceError(code, file, issues);

  const rewrite = opts.scalar;
  if (rewrite !== undefined) {
    visit(doc, {
      Scalar(key, node) {
        if (key === 'key' || typeof node.value !== 'string') return;
        const pos = at(node.range?.[0] ?? 0);
        node.value = rewrite(node.value, { plain: node.type === 'PLAIN', ...pos });
      },
    });
  }
  const value: unknown = doc.toJS({ maxAliasCount: 0 });
  return { file, value, locate: (path, where) => at(offsetOf(doc, path, where ?? 'value')) };
}

/** The error for a file's problems: one sorted `file:line:col: message` line each, all of them in `details`. */
export function sourceError(
  code: ErrorCode,
  file: string,
  issues: readonly SourceIssue[],
): GantryError {
  const seen = new Set<string>();
  const sorted = [...issues]
    .sort((a, b) => a.line - b.line || a.col - b.col)
    .filter((i) => {
      const key = `${i.line}:${i.col}:${i.message}`;
      return seen.has(key) ? false : (seen.add(key), true);
    });
  const lines = sorted
    .slice(0, MAX_LISTED_ISSUES)
    .map((i) => `${file}:${i.line}:${i.col}: ${i.message}`);
  if (sorted.length > MAX_LISTED_ISSUES)
    lines.push(`${file}: …and ${sorted.length - MAX_LISTED_ISSUES} more`);
  return new GantryError(code, lines.join('\n'), {
    details: {
      file,
      errors: sorted.map(({ line, col, path, message }) => ({ line, col, path, message })),
    },
  });
}

/** An issue about the node at `path`, phrased `<path> <predicate>` ("run.port must be …"). */
export function issueAt(
  source: YamlSource,
  path: readonly PathSegment[],
  predicate: string,
  at: 'value' | 'key' = 'value',
): SourceIssue {
  const subject = formatPath(path);
  const message = `${subject === '' ? 'the document' : subject} ${predicate}`;
  return { ...source.locate(path, at), path: subject, message };
}

/** A data path for people: `run.env.LOG_LEVEL`, `run.secrets[0]`, `env["a.b"]`; empty for the root. */
export function formatPath(path: readonly PathSegment[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (/^[A-Za-z0-9_-]+$/.test(seg)) out += out === '' ? seg : `.${seg}`;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out;
}

interface Walk {
  readonly text: string;
  readonly at: (offset: number) => SourcePosition;
  readonly aliases: Array<{ source: string; offset: number }>;
  readonly issues: SourceIssue[];
}

/** Collects aliases, tags and bad or repeated keys; recursion is safe because depth was bounded first. */
function walk(node: unknown, path: PathSegment[], w: Walk): void {
  const offset = rangeOf(node)?.[0] ?? 0;
  if (isAlias(node)) {
    w.aliases.push({ source: node.source, offset });
    return;
  }
  if (!isScalar(node) && !isMap(node) && !isSeq(node)) return;
  if (node.tag !== undefined) {
    // Tags make values that are not plain data (Buffer, Set, Date) or that no schema knows about.
    const tag = node.tag.replace(/^tag:yaml\.org,2002:/, '!!');
    // The node keeps only its resolved tag; the tag as written sits just before the value.
    const tagOffset = w.text.lastIndexOf(tag, offset);
    const message = `YAML tags (${tag}) are not allowed`;
    w.issues.push({
      ...w.at(tagOffset >= 0 ? tagOffset : offset),
      path: formatPath(path),
      message,
    });
  }
  if (isSeq(node)) node.items.forEach((item, i) => walk(item, [...path, i], w));
  if (!isMap(node)) return;
  const seen = new Map<string, SourcePosition>();
  for (const pair of node.items) {
    const key: unknown = pair.key;
    const keyPos = w.at(rangeOf(key)?.[0] ?? offset);
    if (!isScalar(key) || key.value === null || typeof key.value === 'object') {
      w.issues.push({
        ...keyPos,
        path: formatPath(path),
        message: 'mapping keys must be plain strings',
      });
      continue;
    }
    const keyPath = [...path, String(key.value)];
    const first = seen.get(String(key.value));
    if (first === undefined) seen.set(String(key.value), keyPos);
    else {
      const message = `duplicate key ${formatPath(keyPath)} (first defined at ${first.line}:${first.col})`;
      w.issues.push({ ...keyPos, path: formatPath(keyPath), message });
    }
    walk(key, keyPath, w);
    walk(pair.value, keyPath, w);
  }
}

/** Start offset of the first collection nested deeper than `maxDepth`, walking the CST without recursion. */
function firstTooDeep(tokens: readonly CST.Token[], maxDepth: number): number | undefined {
  const stack: Array<[CST.Token, number]> = tokens.map((t) => [t, 0]);
  for (let entry = stack.pop(); entry !== undefined; entry = stack.pop()) {
    const [token, depth] = entry;
    if (token.type === 'document') {
      if (token.value) stack.push([token.value, depth]);
    } else if (
      token.type === 'block-map' ||
      token.type === 'block-seq' ||
      token.type === 'flow-collection'
    ) {
      if (depth >= maxDepth) return token.offset;
      for (const item of token.items) {
        if (item.key) stack.push([item.key, depth + 1]);
        if (item.value) stack.push([item.value, depth + 1]);
      }
    }
  }
  return undefined;
}

function yamlIssue(e: YAMLError, at: (offset: number) => SourcePosition): SourceIssue {
  const message = e.code === 'MULTIPLE_DOCS' ? e.message : e.message.replace(/:$/, '');
  return { ...at(e.pos[0]), path: '', message };
}

/** The offset to report for `path`: see `YamlSource.locate`. */
function offsetOf(doc: Document, path: readonly PathSegment[], where: 'value' | 'key'): number {
  let node: unknown = doc.contents;
  let key: unknown = undefined;
  let complete = true;
  for (const seg of path) {
    const child = childOf(node, seg);
    if (child === undefined) {
      complete = false;
      break;
    }
    [key, node] = child;
  }
  const keyStart = rangeOf(key)?.[0];
  if (complete && where === 'key' && keyStart !== undefined) return keyStart;
  const valueRange = rangeOf(node);
  // An empty value (`run:` and nothing after) has a zero-width range at the line end; its key reads better.
  if (valueRange === undefined || (valueRange[0] === valueRange[1] && keyStart !== undefined))
    return keyStart ?? 0;
  return valueRange[0];
}

function childOf(node: unknown, seg: PathSegment): [key: unknown, value: unknown] | undefined {
  if (isMap(node)) {
    const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(seg));
    return pair === undefined ? undefined : [pair.key, pair.value];
  }
  if (isSeq(node)) {
    const index = typeof seg === 'number' ? seg : /^[0-9]+$/.test(seg) ? Number(seg) : -1;
    const item: unknown = node.items[index];
    return item === undefined ? undefined : [undefined, item];
  }
  return undefined;
}

function rangeOf(node: unknown): readonly [number, number, number] | undefined {
  return isScalar(node) || isMap(node) || isSeq(node) || isAlias(node)
    ? (node.range ?? undefined)
    : undefined;
}
