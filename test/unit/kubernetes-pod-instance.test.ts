import type { CoreV1Event, V1ContainerStatus, V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import {
  pairUnclaimed,
  podEvidence,
  podInstance,
  podReadiness,
  podState,
  timeOf,
} from '../../src/runtime/kubernetes/pod-instance.js';
import type { InstanceState } from '../../src/runtime/runtime.js';

const SHA = 'f'.repeat(40);

/** A pod as the API server reports it (timestamps as strings, as watch events carry them). */
function pod(
  over: {
    phase?: string;
    cs?: Partial<V1ContainerStatus> | null;
    labels?: Record<string, string>;
    deleting?: boolean;
    ready?: boolean;
  } = {},
): V1Pod {
  const cs: V1ContainerStatus | undefined =
    over.cs === null
      ? undefined
      : {
          name: 'app',
          image: 'img',
          imageID: '',
          ready: false,
          restartCount: 0,
          state: { running: { startedAt: '2026-11-23T10:00:00Z' as unknown as Date } },
          ...over.cs,
        };
  return {
    metadata: {
      name: 'gantry-hello-production-ffffffffffff-abcde',
      uid: 'uid-1',
      labels: over.labels ?? {
        'app.kubernetes.io/managed-by': 'gantry',
        'gantry.dev/app': 'hello',
        'gantry.dev/env': 'production',
        'gantry.dev/revision': SHA,
        'gantry.dev/slot': 's0',
        'gantry.dev/rollout': 'r-1',
      },
      ...(over.deleting ? { deletionTimestamp: '2026-11-23T10:01:00Z' as unknown as Date } : {}),
    },
    spec: {
      containers: [
        {
          name: 'app',
          image: 'reg/hello@sha256:abc',
          ports: [{ name: 'http', containerPort: 8080 }],
        },
      ],
    },
    status: {
      phase: over.phase ?? 'Running',
      ...(cs ? { containerStatuses: [cs] } : {}),
      ...(over.ready === undefined
        ? {}
        : {
            conditions: [
              {
                type: 'Ready',
                status: over.ready ? 'True' : 'False',
                reason: over.ready ? undefined : 'ContainersNotReady',
              },
            ],
          }),
    },
  };
}

const waiting = (reason: string, message?: string) => ({
  state: { waiting: { reason, message } },
});

describe('pod state', () => {
  it.each<[string, Parameters<typeof pod>[0], InstanceState]>([
    ['running', {}, 'running'],
    ['pending, no status yet', { phase: 'Pending', cs: null }, 'created'],
    ['pending, pulling', { phase: 'Pending', cs: waiting('ContainerCreating') }, 'created'],
    [
      'pending, ErrImagePull (retried)',
      { phase: 'Pending', cs: waiting('ErrImagePull') },
      'created',
    ],
    ['ImagePullBackOff', { phase: 'Pending', cs: waiting('ImagePullBackOff') }, 'dead'],
    ['InvalidImageName', { phase: 'Pending', cs: waiting('InvalidImageName') }, 'dead'],
    [
      'CreateContainerConfigError',
      { phase: 'Pending', cs: waiting('CreateContainerConfigError') },
      'dead',
    ],
    ['CrashLoopBackOff', { cs: { ...waiting('CrashLoopBackOff'), restartCount: 3 } }, 'restarting'],
    [
      'terminated, about to restart',
      { cs: { state: { terminated: { exitCode: 3 } }, restartCount: 1 } },
      'restarting',
    ],
    ['terminated once', { cs: { state: { terminated: { exitCode: 0 } } } }, 'exited'],
    ['succeeded', { phase: 'Succeeded', cs: { state: { terminated: { exitCode: 0 } } } }, 'exited'],
    ['failed', { phase: 'Failed', cs: { state: { terminated: { exitCode: 1 } } } }, 'exited'],
    ['unknown phase', { phase: 'Unknown' }, 'dead'],
    ['being deleted', { deleting: true }, 'removing'],
  ])('%s → %s', (_name, over, want) => {
    expect(podState(pod(over))).toBe(want);
  });
});

describe('pod → Instance', () => {
  it('maps a running pod claimed for a slot', () => {
    expect(podInstance(pod(), 'gantry')).toEqual({
      id: 'uid-1',
      name: 'gantry-hello-production-ffffffffffff-abcde',
      host: 'gantry',
      app: 'hello',
      env: 'production',
      revision: SHA,
      rolloutId: 'r-1',
      slot: 's0',
      release: null,
      image: 'reg/hello@sha256:abc',
      state: 'running',
      exitCode: undefined,
      restartCount: 0,
      startedAt: Date.parse('2026-11-23T10:00:00Z'),
      hostPort: undefined,
      upstream: 'gantry-hello-production-ffffffffffff-abcde:8080',
    });
  });

  it.each([
    { name: 'a release label', label: '7', want: 7 },
    { name: 'no release label (a ReplicaSet from before releases)', label: undefined, want: null },
    { name: 'a garbled release label', label: 'v7', want: null },
    { name: 'release 0', label: '0', want: null },
  ])('reports the release of a pod with $name', ({ label, want }) => {
    const labels = {
      'app.kubernetes.io/managed-by': 'gantry',
      'gantry.dev/app': 'hello',
      'gantry.dev/env': 'production',
      'gantry.dev/revision': SHA,
      'gantry.dev/slot': 's0',
      ...(label === undefined ? {} : { 'gantry.dev/release': label }),
    };
    expect(podInstance(pod({ labels }), 'gantry')?.release).toBe(want);
  });

  it('keeps the last exit code and the restarts of a crash loop, and no upstream', () => {
    const i = podInstance(
      pod({
        cs: {
          ...waiting('CrashLoopBackOff'),
          restartCount: 4,
          lastState: { terminated: { exitCode: 3 } },
        },
      }),
      'gantry',
    );
    expect(i).toMatchObject({ state: 'restarting', exitCode: 3, restartCount: 4 });
    expect(i?.upstream).toBeUndefined();
    expect(i?.startedAt).toBeUndefined();
  });

  it.each([
    [
      'not managed by Gantry',
      { 'gantry.dev/app': 'hello', 'gantry.dev/env': 'p', 'gantry.dev/slot': 's' },
    ],
    [
      'not claimed for a slot yet',
      {
        'app.kubernetes.io/managed-by': 'gantry',
        'gantry.dev/app': 'hello',
        'gantry.dev/env': 'p',
      },
    ],
  ])('is no instance when %s', (_name, labels) => {
    expect(podInstance(pod({ labels }), 'gantry')).toBeUndefined();
  });

  it('reads timestamps from list calls (Date) and watch events (string)', () => {
    expect(timeOf(new Date(5))).toBe(5);
    expect(timeOf('1970-01-01T00:00:01Z')).toBe(1000);
    expect(timeOf(undefined)).toBeUndefined();
    expect(timeOf('not a time')).toBeUndefined();
  });
});

describe('pod readiness and evidence', () => {
  it.each([
    [undefined, undefined],
    [true, { ready: true, detail: 'pod Ready (readiness probe passes)' }],
    [false, { ready: false, detail: 'pod not Ready (ContainersNotReady)' }],
  ])('Ready condition %j → %j', (ready, want) => {
    expect(podReadiness(pod({ ready }))).toEqual(want);
  });

  it('says why a pod is not serving: phase, waiting reason, exit, restarts, Warning events', () => {
    const events: CoreV1Event[] = [
      {
        metadata: {},
        involvedObject: {},
        type: 'Warning',
        reason: 'BackOff',
        message: 'Back-off restarting failed container app',
        count: 4,
        lastTimestamp: '2026-11-23T10:00:05Z' as unknown as Date,
      },
      { metadata: {}, involvedObject: {}, type: 'Normal', reason: 'Pulled', message: 'ok' },
      {
        metadata: {},
        involvedObject: {},
        type: 'Warning',
        reason: 'Unhealthy',
        message: 'Readiness probe failed: HTTP probe failed with statuscode: 404',
        lastTimestamp: '2026-11-23T10:00:01Z' as unknown as Date,
      },
    ];
    const lines = podEvidence(
      pod({
        cs: {
          ...waiting('CrashLoopBackOff', 'back-off 10s restarting failed container'),
          restartCount: 4,
          lastState: { terminated: { exitCode: 3, reason: 'Error' } },
        },
        ready: false,
      }),
      events,
    );
    expect(lines).toEqual([
      '[kubernetes] pod gantry-hello-production-ffffffffffff-abcde: phase Running',
      '[kubernetes] container app waiting: CrashLoopBackOff (back-off 10s restarting failed container)',
      '[kubernetes] container app last terminated: exit 3 (Error)',
      '[kubernetes] restarts: 4',
      '[kubernetes] pod not Ready (ContainersNotReady)',
      '[kubernetes] event Unhealthy: Readiness probe failed: HTTP probe failed with statuscode: 404',
      '[kubernetes] event BackOff (×4): Back-off restarting failed container app',
    ]);
  });
});

describe('unclaimed pods and slots', () => {
  function loose(name: string, created: string, labels: Record<string, string> = {}): V1Pod {
    return {
      metadata: {
        name,
        creationTimestamp: created as unknown as Date,
        labels: { 'app.kubernetes.io/managed-by': 'gantry', ...labels },
      },
    };
  }

  it('pairs the slots no pod holds with the pods holding none, in a fixed order', () => {
    const pods = [
      loose('p-new', '2026-11-23T10:00:02Z'),
      loose('p-held', '2026-11-23T10:00:00Z', { 'gantry.dev/slot': 's1' }),
      loose('p-old', '2026-11-23T10:00:01Z'),
    ];
    expect([...pairUnclaimed(['s3', 's1', 's2'], pods)]).toEqual([
      ['p-old', 's2'],
      ['p-new', 's3'],
    ]);
  });

  it('pairs nothing it cannot: more loose pods than free slots, pods on their way out', () => {
    const going: V1Pod = {
      ...loose('p-going', '2026-11-23T10:00:00Z'),
      metadata: {
        ...loose('p-going', '2026-11-23T10:00:00Z').metadata,
        deletionTimestamp: '2026-11-23T10:00:05Z' as unknown as Date,
      },
    };
    const pods = [
      going,
      loose('p-a', '2026-11-23T10:00:01Z'),
      loose('p-b', '2026-11-23T10:00:02Z'),
    ];
    expect([...pairUnclaimed(['s0'], pods)]).toEqual([['p-a', 's0']]);
    expect(pairUnclaimed([], pods).size).toBe(0);
  });

  it('lists a paired pod as the instance of its slot', () => {
    const p = pod({
      labels: {
        'app.kubernetes.io/managed-by': 'gantry',
        'gantry.dev/app': 'hello',
        'gantry.dev/env': 'production',
        'gantry.dev/revision': SHA,
      },
    });
    expect(podInstance(p, 'gantry')).toBeUndefined();
    expect(podInstance(p, 'gantry', 's4')).toMatchObject({ slot: 's4', rolloutId: '' });
  });
});
