import { describe, expect, it } from 'vitest';
import { engineError, redact } from '../../src/runtime/docker/docker-errors.js';

function dockerodeError(statusCode: number, message: string): Error {
  return Object.assign(new Error(`(HTTP code ${statusCode}) unexpected - ${message}`), {
    statusCode,
    json: { message },
  });
}

describe('redact', () => {
  it('replaces every secret value, longest first', () => {
    expect(redact('a=hunter2 b=hunter2x c=hunter', ['hunter', 'hunter2', 'hunter2x', ''])).toBe(
      'a=*** b=*** c=***',
    );
  });
});

describe('engineError', () => {
  it.each([
    {
      name: 'unreachable engine is transient',
      error: Object.assign(new Error('connect ECONNREFUSED /x.sock'), { code: 'ECONNREFUSED' }),
      want: 'GANTRY_ERR_DOCKER_UNAVAILABLE',
    },
    {
      name: "a refusal takes the caller's code",
      error: dockerodeError(400, 'invalid memory'),
      want: 'GANTRY_ERR_INSTANCE_START',
    },
    {
      name: 'a 5xx with a sentence is a refusal',
      error: dockerodeError(500, 'OCI runtime create failed'),
      want: 'GANTRY_ERR_INSTANCE_START',
    },
    {
      name: 'a 5xx without one is the engine in trouble',
      error: dockerodeError(500, ''),
      want: 'GANTRY_ERR_DOCKER_UNAVAILABLE',
    },
  ])('$name', ({ error, want }) => {
    expect(engineError(error, 'create x', 'local', 'GANTRY_ERR_INSTANCE_START').code).toBe(want);
  });

  it('keeps secrets out of the message and drops the cause that may quote them', () => {
    const e = engineError(
      dockerodeError(400, 'bad env DB=s3cr3t'),
      'create x',
      'local',
      'GANTRY_ERR_INSTANCE_START',
      ['s3cr3t'],
    );
    expect(e.message).toBe('create x on host "local": bad env DB=***');
    expect(e.cause).toBeUndefined();
  });
});
