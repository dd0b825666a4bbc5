import { describe, expect, it } from 'vitest';
import { parseAppSpec } from '../../src/config/app-spec.js';
import { healthPathProblem } from '../../src/config/health-path.js';
import { isGantryError } from '../../src/errors.js';

/** The error parseAppSpec throws for `text`, as a string. */
function rejection(text: string): string {
  try {
    parseAppSpec(text, 'gantry.yaml');
  } catch (e) {
    expect(isGantryError(e, 'GANTRY_ERR_SPEC_INVALID')).toBe(true);
    return (e as Error).message;
  }
  throw new Error('expected the spec to be rejected');
}

describe('health-check paths cannot leave the pod proxy', () => {
  it.each<[path: string, ok: boolean]>([
    ['/healthz', true],
    ['/', true],
    ['/api/v1.2/health', true],
    ['/a..b/c', true],
    ['/.well-known/health', true],
    ['/healthz?probe=1&next=..', true],
    ['/ready%20now', true],
    ['/..', false],
    ['/healthz/../../secrets', false],
    ['/a/./b', false],
    ['/%2e%2e/secrets', false],
    ['/%2E%2e/secrets', false],
    ['/.%2e/x', false],
    ['/a%2f..%2fb', false],
    ['/a%2Fb', false],
    ['/a%5c..', false],
    ['/%252e%252e/x', false],
    ['/a\\..\\b', false],
  ])('%s → %s', (path, ok) => {
    expect(healthPathProblem(path) === undefined).toBe(ok);
  });

  it('rejects a `..` health path at validation, with file, line and column', () => {
    const text = 'app: hello\nhealth:\n  http: { path: /healthz/../../api/v1/secrets }\n';
    expect(rejection(text)).toBe(
      'gantry.yaml:3:17: health.http.path must not contain "." or ".." segments (the check must stay on the app)',
    );
  });

  it("rejects an encoded dot segment in a process's check", () => {
    const text = [
      'app: hello',
      'processes:',
      '  web:',
      '    port: 8080',
      '    health: { http: { path: "/%2e%2e/x" } }',
      '',
    ].join('\n');
    expect(rejection(text)).toMatch(
      /^gantry\.yaml:5:\d+: processes\.web\.health\.http\.path must not contain percent-encoded/,
    );
  });

  it('accepts an ordinary health path', () => {
    const spec = parseAppSpec('app: hello\nhealth:\n  http: { path: /healthz }\n', 'gantry.yaml');
    expect(spec.health.check).toMatchObject({ kind: 'http', path: '/healthz' });
  });
});
