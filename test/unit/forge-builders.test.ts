import { describe, expect, it } from 'vitest';
import type { ForgeConfig } from '../../src/config/controller-config.js';
import { statusRequest, projectOf, type ReportState } from '../../src/history/forges/index.js';
import {
  githubCreateDeployment,
  githubDeploymentId,
  githubDeploymentStatus,
  githubStatusState,
} from '../../src/history/forges/github.js';
import { gitlabStatusState } from '../../src/history/forges/gitlab.js';
import { giteaStatusState } from '../../src/history/forges/gitea.js';
import { shapeErrors, type ForgeShape } from '../support/forge-recorder.js';

const SHA = 'a'.repeat(40);
const TOKEN = 'tok-123';
const github: ForgeConfig = { kind: 'github', apiUrl: 'https://api.github.com/', token: TOKEN };
const gitlab: ForgeConfig = { kind: 'gitlab', apiUrl: 'https://gitlab.example.com', token: TOKEN };
const gitea: ForgeConfig = { kind: 'gitea', apiUrl: 'https://gitea.example.com', token: TOKEN };
const STATES: ReportState[] = [
  'in_progress',
  'frozen',
  'succeeded',
  'failed',
  'aborted',
  'superseded',
];

function report(state: ReportState, description = 'deployed to production') {
  return {
    sha: SHA,
    env: 'production',
    state,
    description,
    targetUrl: 'https://gantry.example.com/#/rollouts/r-1',
    ref: 'main',
  };
}

describe('commit status requests, per forge, as documented', () => {
  const cases: {
    name: string;
    forge: ForgeConfig;
    project: string;
    url: string;
    auth: [string, string];
    shape: ForgeShape;
    contextField: 'context' | 'name';
  }[] = [
    {
      name: 'GitHub',
      forge: github,
      project: 'acme/app',
      url: `https://api.github.com/repos/acme/app/statuses/${SHA}`,
      auth: ['Authorization', `Bearer ${TOKEN}`],
      shape: 'githubStatus',
      contextField: 'context',
    },
    {
      name: 'GitLab (path, URL-encoded)',
      forge: gitlab,
      project: 'group/sub/app',
      url: `https://gitlab.example.com/api/v4/projects/group%2Fsub%2Fapp/statuses/${SHA}`,
      auth: ['PRIVATE-TOKEN', TOKEN],
      shape: 'gitlabStatus',
      contextField: 'name',
    },
    {
      name: 'GitLab (numeric id)',
      forge: gitlab,
      project: '42',
      url: `https://gitlab.example.com/api/v4/projects/42/statuses/${SHA}`,
      auth: ['PRIVATE-TOKEN', TOKEN],
      shape: 'gitlabStatus',
      contextField: 'name',
    },
    {
      name: 'Gitea',
      forge: gitea,
      project: 'acme/app',
      url: `https://gitea.example.com/api/v1/repos/acme/app/statuses/${SHA}`,
      auth: ['Authorization', `token ${TOKEN}`],
      shape: 'giteaStatus',
      contextField: 'context',
    },
  ];
  for (const c of cases) {
    for (const state of STATES) {
      it(`${c.name}: ${state}`, () => {
        const req = statusRequest(c.forge, c.project, report(state));
        expect(req.method).toBe('POST');
        expect(req.url).toBe(c.url);
        expect(req.headers[c.auth[0]]).toBe(c.auth[1]);
        const body = JSON.parse(req.body ?? '') as Record<string, unknown>;
        expect(shapeErrors(c.shape, body)).toEqual([]);
        expect(body[c.contextField]).toBe('gantry/production');
        expect(body.target_url).toBe('https://gantry.example.com/#/rollouts/r-1');
      });
    }
  }

  it('GitHub sends the API version and media type it documents', () => {
    const req = statusRequest(github, 'acme/app', report('succeeded'));
    expect(req.headers).toMatchObject({
      Accept: 'application/vnd.github+json',
      'X-GitHub-Api-Version': '2022-11-28',
    });
  });

  it('cuts descriptions to 140 characters, on one line', () => {
    const long = `failed: ${'x'.repeat(300)}\nsecond line`;
    for (const f of [github, gitlab, gitea]) {
      const body = JSON.parse(statusRequest(f, 'acme/app', report('failed', long)).body ?? '') as {
        description: string;
      };
      expect(body.description.length).toBeLessThanOrEqual(140);
      expect(body.description).not.toContain('\n');
    }
  });

  it('GitLab passes the branch as ref', () => {
    const body = JSON.parse(statusRequest(gitlab, '1', report('in_progress')).body ?? '') as {
      ref: string;
    };
    expect(body.ref).toBe('main');
  });
});

describe('state mapping', () => {
  const table: [ReportState, string, string, string][] = [
    // gantry state, GitHub, GitLab, Gitea
    ['in_progress', 'pending', 'running', 'pending'],
    ['frozen', 'pending', 'pending', 'pending'],
    ['succeeded', 'success', 'success', 'success'],
    ['failed', 'failure', 'failed', 'failure'],
    ['aborted', 'failure', 'canceled', 'failure'],
    ['superseded', 'error', 'canceled', 'warning'],
  ];
  for (const [state, gh, gl, gt] of table) {
    it(state, () => {
      expect([githubStatusState(state), gitlabStatusState(state), giteaStatusState(state)]).toEqual(
        [gh, gl, gt],
      );
    });
  }
});

describe('GitHub Deployments', () => {
  it('creates a deployment of the exact commit, with no merge and no required checks', () => {
    const req = githubCreateDeployment(github, 'acme/app', {
      sha: SHA,
      env: 'production',
      description: 'gantry deploy r-1',
    });
    expect(req.url).toBe('https://api.github.com/repos/acme/app/deployments');
    const body = JSON.parse(req.body ?? '') as Record<string, unknown>;
    expect(shapeErrors('githubDeployment', body)).toEqual([]);
    expect(body).toMatchObject({
      ref: SHA,
      environment: 'production',
      auto_merge: false,
      required_contexts: [],
      production_environment: true,
    });
    const staging = JSON.parse(
      githubCreateDeployment(github, 'acme/app', { sha: SHA, env: 'staging', description: '' })
        .body ?? '',
    ) as Record<string, unknown>;
    expect(staging.production_environment).toBe(false);
  });

  const statuses: [ReportState, string][] = [
    ['in_progress', 'in_progress'],
    ['frozen', 'queued'],
    ['succeeded', 'success'],
    ['failed', 'failure'],
    ['aborted', 'failure'],
    ['superseded', 'inactive'],
  ];
  for (const [state, want] of statuses) {
    it(`deployment status for ${state} is ${want}`, () => {
      const req = githubDeploymentStatus(github, 'acme/app', 77, {
        state,
        logUrl: 'https://gantry.example.com/#/rollouts/r-1',
        description: 'x',
        environmentUrl: state === 'succeeded' ? 'https://app.example.com' : undefined,
      });
      expect(req.url).toBe('https://api.github.com/repos/acme/app/deployments/77/statuses');
      const body = JSON.parse(req.body ?? '') as Record<string, unknown>;
      expect(shapeErrors('githubDeploymentStatus', body)).toEqual([]);
      expect(body.state).toBe(want);
      expect(body.log_url).toBe('https://gantry.example.com/#/rollouts/r-1');
    });
  }

  it('reads the id from the 201 answer and nothing else', () => {
    expect(githubDeploymentId({ id: 12, url: 'x' })).toBe(12);
    expect(githubDeploymentId({ message: 'Conflict' })).toBeUndefined();
    expect(githubDeploymentId(null)).toBeUndefined();
    expect(githubDeploymentId({ id: '12' })).toBeUndefined();
  });
});

describe('project of a repo', () => {
  const table: [string, ForgeConfig, string, string][] = [
    ['GitHub clone URL', github, 'https://github.com/acme/app.git', 'acme/app'],
    ['without .git', github, 'https://github.com/acme/app', 'acme/app'],
    ['credentials are not part of it', github, 'https://x:tok@github.com/acme/app.git', 'acme/app'],
    ['GitLab subgroups', gitlab, 'https://gitlab.example.com/group/sub/app.git', 'group/sub/app'],
    [
      'configured wins',
      { ...gitea, project: 'other/name' },
      'https://g.example.com/a/b.git',
      'other/name',
    ],
  ];
  for (const [name, forge, url, want] of table) {
    it(name, () => expect(projectOf(forge, url)).toBe(want));
  }
});
