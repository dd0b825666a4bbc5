/**
 * The release phase, one-off commands and live logs, end to end against a real controller,
 * Docker, Caddy, Redis and git (the example app: busybox httpd, which logs every request with -v).
 * - A release command that succeeds runs before the instances, and its output is in the events.
 * - One that fails (`exit 3`, "migration failed") fails the rollout: no new instance started, the
 *   old release serves, and its output is the evidence.
 * - `gantry run` returns the command's output and exit code, leaves no container behind, and is
 *   in the environment's timeline.
 * - `gantry logs --follow` started before a rollout sees lines of the instances it starts.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import Docker from 'dockerode';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RolloutRecord } from '../../src/store/records.js';
import {
  appName,
  closeWithInstances,
  exampleSpec,
  finishedRollout,
  pushPageBuilt,
  ROOT,
  startExampleFixture,
  waitFor,
  type Fixture,
} from '../support/controller-fixture.js';
import { gantry as runCli } from './cli-process.js';

const docker = new Docker();

/** One-off containers of `app` still on the engine (there should be none between runs). */
async function oneOffsOf(app: string): Promise<Docker.ContainerInfo[]> {
  return docker.listContainers({
    all: true,
    filters: { label: [`dev.gantry.app=${app}`, 'dev.gantry.oneoff'] },
  });
}

describe('release phase, run, live logs', () => {
  const transcript: string[] = [];
  /** A CLI run, kept for the transcript (docs/cli.md's examples come from it). */
  const gantry: typeof runCli = async (args, opts) => {
    const res = await runCli(args, opts);
    transcript.push(`$ gantry ${args.join(' ')}\n${res.stdout}${res.stderr}(exit ${res.code})\n`);
    return res;
  };
  let f: Fixture;
  const app = appName('rel');
  let base: string;
  let v1: RolloutRecord;

  beforeAll(async () => {
    base = (await exampleSpec(app)).replace('replicas: 3', 'replicas: 2');
    f = await startExampleFixture(app);
    await f.wt.write(
      'gantry.yaml',
      `${base}\nrelease:\n  command: [sh, -c, 'echo "migrating to $GANTRY_RELEASE"; echo schema ok']\n  timeout: 30s\n`,
    );
    const sha = await pushPageBuilt(f, app, '<h1>one</h1>', 'v1 with a release phase');
    v1 = await finishedRollout(f, app, sha);
  }, 240_000);

  afterAll(async () => {
    // GANTRY_CLI_TRANSCRIPT=file keeps what the CLI printed.
    const file = process.env.GANTRY_CLI_TRANSCRIPT;
    if (file && transcript.length) await writeFile(file, transcript.join('\n'));
    await closeWithInstances(f, app);
  });

  it('runs the release command before any instance starts; its output is in the events', async () => {
    expect(v1.outcome).toBe('succeeded');
    const events = await f.controller.rollouts.events(v1.id);
    const kinds = events.map((e) => e.kind);
    const texts = events.map((e) => e.text);
    expect(texts).toContain('│ migrating to v1');
    expect(texts).toContain('│ schema ok');
    expect(texts.some((t) => t.startsWith('release phase: exited 0'))).toBe(true);
    // Before any instance: the first core event comes after the phase finished.
    const finished = kinds.indexOf('release-finished');
    const firstCore = kinds.findIndex((k) => k === 'instance-health' || k === 'phase-changed');
    expect(finished).toBeGreaterThan(-1);
    expect(firstCore).toBeGreaterThan(finished);
    const shown = await gantry(['rollout', v1.id], { client: f.client });
    expect(shown.stdout).toContain('migrating to v1');
    const rec = await f.controller.rollouts.get(v1.id);
    expect(rec?.releasePhase).toMatchObject({ exitCode: 0, timedOut: false });
    expect(await oneOffsOf(app)).toEqual([]);
  });

  it('a failing release command: nothing changes, and its output is the evidence', async () => {
    const before = await f.controller.runtime!.list({ app });
    await f.wt.write(
      'gantry.yaml',
      `${base}\nrelease:\n  command: [sh, -c, 'echo applying 0042_add_index; echo "migration failed" >&2; exit 3']\n`,
    );
    const sha = await pushPageBuilt(f, app, '<h1>two</h1>', 'v2 whose migration fails');
    const rec = await finishedRollout(f, app, sha);
    expect(rec.outcome).toBe('failed');
    expect(rec.reason).toContain('release command exited 3');
    expect(rec.reason).toContain('migration failed');
    expect(rec.failureLogs?.slot).toBe('release');
    // stdout and stderr arrive on their own streams: their relative order is not guaranteed.
    expect(rec.failureLogs?.lines.sort()).toEqual(['applying 0042_add_index', 'migration failed']);
    // No instance of the new revision was ever started; the old ones are the same containers.
    const after = await f.controller.runtime!.list({ app });
    expect(after.filter((i) => i.revision === sha)).toEqual([]);
    expect(after.map((i) => i.id).sort()).toEqual(before.map((i) => i.id).sort());
    const state = await f.controller.rollouts.env(app, 'production');
    expect(state.current?.sha).toBe(v1.to.sha);
    const page = await fetch(`${state.route!.url}/`).then((r) => r.text());
    expect(page).toContain('one');
    expect(await oneOffsOf(app)).toEqual([]);
    // The CLI shows the evidence too.
    const shown = await gantry(['rollout', rec.id], { client: f.client });
    expect(shown.stdout).toContain('migration failed');
  }, 240_000);

  it('`run` returns the output and exit code, removes its container, and is in the timeline', async () => {
    const r = await gantry(['run', app, '--', 'sh', '-c', 'echo hi; echo oops >&2; exit 7'], {
      client: f.deployer,
    });
    expect(r.stdout).toBe('hi\n');
    expect(r.stderr).toContain('oops');
    expect(r.code).toBe(7);
    expect(await oneOffsOf(app)).toEqual([]);
    const timeline = await f.controller.rollouts.envEvents(app, 'production');
    const ran = timeline.filter((e) => e.kind === 'run').at(-1);
    expect(ran?.data).toMatchObject({
      by: 'ci',
      argv: ['sh', '-c', 'echo hi; echo oops >&2; exit 7'],
      exitCode: 7,
    });
    expect(ran?.text).toContain('ci ran sh -c');
    // A viewer may not.
    const denied = await gantry(['run', app, '--', 'true'], { client: f.client });
    expect(denied.code).toBe(1);
    expect(denied.stderr).toContain('deployer');
  }, 60_000);

  it('the dashboard shows the release phase log and a live log tail (Chromium)', async () => {
    const browser = await chromium.launch({
      executablePath: process.env.GANTRY_CHROMIUM ?? '/usr/bin/chromium',
    });
    const problems: string[] = [];
    try {
      const p = await browser.newPage();
      p.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
      p.on('console', (m) => {
        if (m.type() === 'error' && !/status of (401|403|404)/.test(m.text()))
          problems.push(`console: ${m.text()}`);
      });
      await p.goto(`${f.controller.url}/`);
      await p.getByLabel('API token').fill(f.token);
      await p.getByRole('button', { name: 'Sign in' }).click();
      await p.getByRole('heading', { name: 'Apps' }).waitFor();
      const failed = (await f.controller.rollouts.list(app, 'production')).find(
        (r) => r.outcome === 'failed',
      )!;
      await p.goto(`${f.controller.url}/#/rollouts/${failed.id}`);
      await expect
        .poll(() => p.locator('body').innerText(), { timeout: 20_000 })
        .toContain('│ migration failed');
      await p.goto(`${f.controller.url}/#/apps/${app}`);
      await p.locator('#log-tail-toggle').click();
      await expect
        .poll(() => p.locator('#log-tail').innerText(), { timeout: 20_000 })
        .toMatch(/production\/\S+ \| .*response:200/);
      expect(problems).toEqual([]);
    } finally {
      await browser.close();
    }
  }, 60_000);

  it('`logs --follow` sees lines from instances started after it began', async () => {
    const child: ChildProcessWithoutNullStreams = spawn(
      process.execPath,
      [path.join(ROOT, 'bin', 'gantry.js'), 'logs', app, '--env', 'production', '--follow'],
      {
        cwd: ROOT,
        env: {
          ...process.env,
          GANTRY_CLI_CONFIG: '/nonexistent/cli.yaml',
          GANTRY_URL: f.client.url,
          GANTRY_TOKEN: f.client.token,
        },
      },
    );
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    try {
      await waitFor(
        'the log stream to show the running instances',
        async () => {
          if (child.exitCode !== null) throw new Error(`gantry logs exited: ${err}`);
          return out.includes('joined') ? true : undefined;
        },
        30_000,
      );
      await f.wt.write('gantry.yaml', base);
      const sha = await pushPageBuilt(f, app, '<h1>three</h1>', 'v3: new instances');
      expect((await finishedRollout(f, app, sha)).outcome).toBe('succeeded');
      const fresh = (await f.controller.runtime!.list({ app })).filter((i) => i.revision === sha);
      expect(fresh.length).toBe(2);
      const url = (await f.controller.rollouts.env(app, 'production')).route!.url;
      // busybox httpd -v logs each answer (`response:404`); the health checks only get 200s.
      const seen = await waitFor(
        'a request to the new revision in the followed log',
        async () => {
          await fetch(`${url}/no-such-page.html`).then((r) => r.text());
          const line = out
            .split('\n')
            .find(
              (l) => l.includes('response:404') && fresh.some((i) => l.startsWith(`${i.slot} |`)),
            );
          return line;
        },
        30_000,
      ).catch((e: unknown) => {
        throw new Error(`${String(e)}\n--- stdout of gantry logs:\n${out}\n--- stderr:\n${err}`);
      });
      expect(seen).toMatch(/ \| .*response:404/);
      expect(out).toMatch(new RegExp(`--- ${fresh[0]!.slot} joined`));
      transcript.push(`$ gantry logs ${app} --env production --follow\n${out}`);
    } finally {
      child.kill('SIGINT');
    }
  }, 240_000);
});
