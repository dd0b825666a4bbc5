import { describe, expect, it } from 'vitest';
import { GantryError, type ErrorCode } from '../../src/errors.js';
import {
  formatPath,
  parseYamlSource,
  sourceError,
  type PathSegment,
  type YamlSourceOptions,
} from '../../src/config/yaml-source.js';

const OPTS: YamlSourceOptions = { file: 'conf.yaml', code: 'GANTRY_ERR_CONFIG_INVALID' };

function failure(text: string, opts: Partial<YamlSourceOptions> = {}): GantryError {
  try {
    parseYamlSource(text, { ...OPTS, ...opts });
  } catch (e) {
    if (e instanceof GantryError) return e;
    throw e;
  }
  throw new Error('expected the YAML to be rejected');
}

describe('parseYamlSource: plain data', () => {
  it.each([
    { name: 'mapping', text: 'a: 1\nb: [x, "y"]\n', value: { a: 1, b: ['x', 'y'] } },
    {
      name: 'YAML 1.2 core: yes/on/0777 stay strings and decimals',
      text: 'a: yes\nb: on\nc: 0777\n',
      value: { a: 'yes', b: 'on', c: 777 },
    },
    { name: 'no << merge keys', text: 'a: { <<: x }\n', value: { a: { '<<': 'x' } } },
    { name: 'byte order mark', text: '\uFEFFa: 1\n', value: { a: 1 } },
    { name: 'explicit document markers', text: '---\na: 1\n...\n', value: { a: 1 } },
    { name: 'empty file', text: '', value: null },
    { name: 'comments only', text: '# nothing\n', value: null },
    { name: 'anchors without aliases are harmless', text: 'a: &x 1\n', value: { a: 1 } },
  ])('$name', ({ text, value }) => {
    expect(parseYamlSource(text, OPTS).value).toEqual(value);
  });
});

describe('parseYamlSource: keys are plain data', () => {
  it('keeps __proto__ as an own key instead of setting a prototype', () => {
    const value = parseYamlSource('env:\n  __proto__: { polluted: x }\n', OPTS).value as {
      env: object;
    };
    expect(Object.getOwnPropertyNames(value.env)).toEqual(['__proto__']);
    expect(Object.getPrototypeOf(value.env)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('parseYamlSource: locate', () => {
  const text = [
    'app: hello', //                        line 1
    'run:', //                              line 2
    '  port: 8080', //                      line 3
    '  secrets: [A, B]', //                 line 4
    '  env:', //                            line 5
    'build: { context: . }', //             line 6
  ].join('\n');
  const source = parseYamlSource(text, OPTS);

  it.each<{ name: string; path: PathSegment[]; at?: 'key' | 'value'; line: number; col: number }>([
    { name: 'root', path: [], line: 1, col: 1 },
    { name: 'scalar value', path: ['run', 'port'], line: 3, col: 9 },
    { name: 'scalar key', path: ['run', 'port'], at: 'key', line: 3, col: 3 },
    { name: 'block mapping starts at its first key', path: ['run'], line: 3, col: 3 },
    { name: 'flow mapping starts at its brace', path: ['build'], line: 6, col: 8 },
    { name: 'sequence item by number', path: ['run', 'secrets', 1], line: 4, col: 16 },
    { name: 'sequence item by string', path: ['run', 'secrets', '1'], line: 4, col: 16 },
    { name: 'missing key points at its mapping', path: ['run', 'replicas'], line: 3, col: 3 },
    { name: 'missing key below a missing key', path: ['health', 'http', 'path'], line: 1, col: 1 },
    { name: 'missing index points at the sequence', path: ['run', 'secrets', 5], line: 4, col: 12 },
    { name: 'empty value points at its key', path: ['run', 'env'], line: 5, col: 3 },
  ])('$name', ({ path, at, line, col }) => {
    expect(source.locate(path, at)).toEqual({ line, col });
  });

  it('counts CRLF line ends as one line', () => {
    expect(parseYamlSource('a: 1\r\nb:\r\n  c: 2\r\n', OPTS).locate(['b', 'c'])).toEqual({
      line: 3,
      col: 6,
    });
  });
});

describe('parseYamlSource: rejected input names file, line and column', () => {
  const bomb = [
    'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
    ...'bcdefghi'.split('').map((c, i) => {
      const prev = 'abcdefghi'[i] ?? 'a';
      return `${c}: &${c} [${Array(9).fill(`*${prev}`).join(',')}]`;
    }),
  ].join('\n');

  it.each<{ name: string; text: string; opts?: Partial<YamlSourceOptions>; message: string }>([
    {
      name: 'duplicate key',
      text: 'a: 1\nb:\n  c: 1\n  c: 2\n',
      message: 'conf.yaml:4:3: duplicate key b.c (first defined at 3:3)',
    },
    {
      name: 'duplicate key differing only in YAML type',
      text: '1: a\n"1": b\n',
      message: 'conf.yaml:2:1: duplicate key 1 (first defined at 1:1)',
    },
    {
      name: 'second document',
      text: 'a: 1\n---\na: 2\n',
      message: 'conf.yaml:2:1: a second YAML document starts here; the file must hold exactly one',
    },
    {
      name: 'unclosed flow sequence',
      text: 'a: 1\nb: [1, 2\n',
      message:
        'conf.yaml:3:1: Flow sequence in block collection must be sufficiently indented and end with a ]',
    },
    {
      name: 'tab indentation',
      text: 'a:\n\tb: 1\n',
      message: 'conf.yaml:2:1: Tabs are not allowed as indentation',
    },
    {
      name: 'alias bomb (billion laughs)',
      text: bomb,
      message:
        'conf.yaml:2:8: YAML aliases (*a) are not allowed (found 72); write the value out in full',
    },
    {
      name: 'single alias',
      text: 'a: &x 1\nb: *x\n',
      message:
        'conf.yaml:2:4: YAML aliases (*x) are not allowed (found 1); write the value out in full',
    },
    {
      name: 'standard tag',
      text: 'a: !!binary aGk=\n',
      message: 'conf.yaml:1:4: YAML tags (!!binary) are not allowed',
    },
    {
      name: 'custom tag',
      text: 'a:\n  b: !env HOME\n',
      message: 'conf.yaml:2:6: YAML tags (!env) are not allowed',
    },
    {
      name: 'collection key',
      text: 'a:\n  ? [x, y]\n  : 1\n',
      message: 'conf.yaml:2:5: mapping keys must be plain strings',
    },
    {
      name: 'null key',
      text: 'a:\n  ? \n  : 1\n',
      message: 'conf.yaml:2:5: mapping keys must be plain strings',
    },
    {
      name: 'too large',
      text: `a: ${'x'.repeat(100)}\n`,
      opts: { maxBytes: 64 },
      message: 'conf.yaml:1:1: the file is 104 bytes; the limit is 64',
    },
    {
      name: 'too large counts bytes, not characters',
      text: `a: ${'é'.repeat(40)}\n`,
      opts: { maxBytes: 64 },
      message: 'conf.yaml:1:1: the file is 84 bytes; the limit is 64',
    },
    {
      name: 'flow nesting too deep',
      text: `a: ${'['.repeat(5000)}${']'.repeat(5000)}\n`,
      message: 'conf.yaml:1:35: nesting is deeper than 32 levels',
    },
    {
      name: 'explicit-key nesting too deep',
      text: `${'? '.repeat(5000)}x\n`,
      message: 'conf.yaml:1:65: nesting is deeper than 32 levels',
    },
    {
      name: 'compact sequence nesting too deep',
      text: `a:\n  ${'- '.repeat(5000)}x\n`,
      message: 'conf.yaml:2:65: nesting is deeper than 32 levels',
    },
    {
      name: 'custom depth',
      text: 'a: { b: { c: 1 } }\n',
      opts: { maxDepth: 2 },
      message: 'conf.yaml:1:9: nesting is deeper than 2 levels',
    },
    {
      name: 'several problems, in source order',
      text: 'b: !x 1\na: 1\na: 2\n',
      message: [
        'conf.yaml:1:4: YAML tags (!x) are not allowed',
        'conf.yaml:3:1: duplicate key a (first defined at 2:1)',
      ].join('\n'),
    },
  ])('$name', ({ text, opts, message }) => {
    // Nothing is expanded or composed past the limits (speed is for benchmarks, not asserts:
    // an expansion bomb would hang here until the test timeout).
    const error = failure(text, opts);
    expect(error.message).toBe(message);
    expect(error.code).toBe('GANTRY_ERR_CONFIG_INVALID');
  });

  it('puts every problem in details', () => {
    const error = failure('a: 1\na: 2\n');
    expect(error.details).toEqual({
      file: 'conf.yaml',
      errors: [{ line: 2, col: 1, path: 'a', message: 'duplicate key a (first defined at 1:1)' }],
    });
  });
});

describe('sourceError', () => {
  const code: ErrorCode = 'GANTRY_ERR_SPEC_INVALID';

  it('sorts by position and drops exact repeats', () => {
    const issue = (line: number, col: number, message: string) => ({
      line,
      col,
      path: 'p',
      message,
    });
    const error = sourceError(code, 'f.yaml', [
      issue(3, 1, 'c'),
      issue(1, 5, 'b'),
      issue(1, 2, 'a'),
      issue(1, 5, 'b'),
    ]);
    expect(error.message).toBe('f.yaml:1:2: a\nf.yaml:1:5: b\nf.yaml:3:1: c');
    expect(error.code).toBe(code);
  });

  it('lists at most 50 problems in the message but keeps all in details', () => {
    const issues = Array.from({ length: 60 }, (_, i) => ({
      line: i + 1,
      col: 1,
      path: '',
      message: 'x',
    }));
    const error = sourceError(code, 'f.yaml', issues);
    const lines = error.message.split('\n');
    expect(lines).toHaveLength(51);
    expect(lines[50]).toBe('f.yaml: …and 10 more');
    expect((error.details?.errors as unknown[]).length).toBe(60);
  });
});

describe('formatPath', () => {
  it.each<{ path: PathSegment[]; text: string }>([
    { path: [], text: '' },
    { path: ['run', 'replicas'], text: 'run.replicas' },
    { path: ['run', 'secrets', 0], text: 'run.secrets[0]' },
    { path: ['environments', 'my-env', 'branch'], text: 'environments.my-env.branch' },
    { path: ['env', 'a.b'], text: 'env["a.b"]' },
  ])('$text', ({ path, text }) => {
    expect(formatPath(path)).toBe(text);
  });
});
