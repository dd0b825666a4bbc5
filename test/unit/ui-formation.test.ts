// The dashboard's process counts and scale form, as pure functions (plain browser ES modules).
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain JavaScript module of the browser UI, without type declarations.
import * as formation from '../../src/ui/formation.js';

interface Count {
  name: string;
  desired: number | undefined;
  ready: number;
}
const { processCounts, formationChange } = formation as {
  processCounts: (status: unknown) => Count[];
  formationChange: (counts: Count[], values: Record<string, string>) => Record<string, number>;
};

const inst = (verdict: string, process?: string) => ({ slot: 's', verdict, process });

describe('processCounts', () => {
  const cases: { name: string; status: unknown; want: Count[] }[] = [
    { name: 'no status yet', status: undefined, want: [] },
    {
      name: 'a single-process status: web from the desired replicas and healthy instances',
      status: {
        desired: { replicas: 3 },
        instances: [
          inst('healthy'),
          inst('starting'),
          inst('healthy'),
          inst('stray'),
          inst('surplus'),
        ],
      },
      want: [{ name: 'web', desired: 3, ready: 2 }],
    },
    {
      name: 'instances labelled by process, before per-process counts',
      status: {
        desired: { replicas: 2 },
        instances: [inst('healthy', 'web'), inst('healthy', 'worker'), inst('unhealthy', 'worker')],
      },
      want: [
        { name: 'web', desired: 2, ready: 1 },
        { name: 'worker', desired: undefined, ready: 1 },
      ],
    },
    {
      name: "the reconciler's per-process counts, as a list",
      status: {
        desired: { replicas: 9 },
        processes: [
          { name: 'web', desired: 5, ready: 4 },
          { name: 'worker', desired: 0, ready: 0 },
        ],
      },
      want: [
        { name: 'web', desired: 5, ready: 4 },
        { name: 'worker', desired: 0, ready: 0 },
      ],
    },
    {
      name: "the reconciler's per-process counts, as a map",
      status: { processes: { web: { replicas: 2, healthy: 2 }, clock: { desired: 1, ready: 0 } } },
      want: [
        { name: 'web', desired: 2, ready: 2 },
        { name: 'clock', desired: 1, ready: 0 },
      ],
    },
  ];
  it.each(cases)('$name', ({ status, want }) => {
    expect(processCounts(status)).toEqual(want);
  });
});

describe('formationChange', () => {
  const counts: Count[] = [
    { name: 'web', desired: 2, ready: 2 },
    { name: 'worker', desired: 1, ready: 1 },
  ];
  it('sends only the processes whose count changed', () => {
    expect(formationChange(counts, { web: '5', worker: '1' })).toEqual({ web: 5 });
    expect(formationChange(counts, { web: ' 0 ', worker: '3' })).toEqual({ web: 0, worker: 3 });
  });
  it.each([
    { values: { web: '2', worker: '1' }, error: /nothing differs/ },
    { values: { web: '', worker: '1' }, error: /web: enter a whole number/ },
    { values: { web: '-1', worker: '1' }, error: /web: enter a whole number/ },
    { values: { web: '2', worker: '1.5' }, error: /worker: enter a whole number/ },
  ])('refuses $values', ({ values, error }) => {
    expect(() => formationChange(counts, values)).toThrow(error);
  });
});
