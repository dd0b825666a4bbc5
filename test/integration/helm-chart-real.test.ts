/**
 * charts/gantry with the real Helm (built by scripts/kube-infra.sh from helm.sh/helm/v3): `helm
 * lint --strict` and `helm template` with the defaults and every example, and what the rendered
 * objects promise for safety (issue 12): NetworkPolicies (only the controller reaches Redis, the
 * apps' namespaces reach nothing of Gantry's), the builder on a Unix socket only, notification
 * URLs and the Redis password in Secrets. With GANTRY_KUBE=real: `helm install` into the real
 * API server (Helm's schema validation, then the API server's own), an upgrade keeping the
 * generated Redis password (lookup), and SelfSubjectAccessReviews as the chart's ServiceAccount,
 * with a token for it: it may do exactly what the runtime needs and nothing more.
 */
import { execFile } from 'node:child_process';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { AuthorizationV1Api, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RBAC_RULES } from '../../src/runtime/kubernetes/rbac.js';
import { startRealTestCluster, type RealTestCluster } from '../kube/index.js';
import { HELM_KUBE_VERSION, helmBinary, templateArgs } from '../support/helm.js';
import { testEnv, uniqueName } from '../support/env.js';

const CHART = join(import.meta.dirname, '../../charts/gantry');
const EXAMPLES = (await readdir(join(CHART, 'examples'))).filter((f) => f.endsWith('.yaml'));
const real = process.env.GANTRY_KUBE === 'real';
const helm = helmBinary();
if (helm === undefined) console.warn('helm not built (bash scripts/kube-infra.sh): skipped');
if (real && helm === undefined) throw new Error('GANTRY_KUBE=real but helm is not built');

const run = promisify(execFile);
async function helmRun(args: string[]): Promise<string> {
  const { stdout } = await run(helm ?? 'helm', args, { maxBuffer: 16 * 2 ** 20 });
  return stdout;
}

// Rendered manifests are walked by path in assertions; their shape is what is tested.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Obj = any;
async function template(values: string[]): Promise<Obj[]> {
  const out = await helmRun(templateArgs(CHART, values));
  return parseAllDocuments(out)
    .map((d) => d.toJS() as Obj)
    .filter((o) => o !== null);
}
const example = (f: string) => join(CHART, 'examples', f);
const find = (objs: Obj[], kind: string, name: string): Obj =>
  objs.find((o) => o.kind === kind && o.metadata.name === name);
const selects = (selector: Record<string, string>, labels: Record<string, string>) =>
  Object.entries(selector).every(([k, v]) => labels[k] === v);

describe.skipIf(helm === undefined)('charts/gantry with the real helm', () => {
  it.each(['(defaults)', ...EXAMPLES])('helm lint --strict: %s', async (file) => {
    const args = ['lint', '--strict', CHART, '--kube-version', HELM_KUBE_VERSION];
    const out = await helmRun(file === '(defaults)' ? args : [...args, '-f', example(file)]);
    expect(out).toContain('1 chart(s) linted, 0 chart(s) failed');
  });

  it.each(['(defaults)', ...EXAMPLES])(
    'helm template: %s renders, with Redis reachable only from the controller',
    async (file) => {
      const objs = await template(file === '(defaults)' ? [] : [example(file)]);
      const deploy = find(objs, 'Deployment', 'gantry');
      const controllerLabels = deploy.spec.template.metadata.labels;
      const redis = find(objs, 'StatefulSet', 'gantry-redis');
      const policies = objs.filter((o) => o.kind === 'NetworkPolicy');
      const controllerPolicy = policies.find((p) =>
        selects(p.spec.podSelector.matchLabels, controllerLabels),
      );
      // The controller's HTTP port: every namespace but the apps'.
      const targets = (
        controllerPolicy.spec.ingress[0].from[0].namespaceSelector.matchExpressions as Obj[]
      )[0];
      expect(targets).toMatchObject({ key: 'kubernetes.io/metadata.name', operator: 'NotIn' });
      expect(targets.values.length).toBeGreaterThan(0);
      expect(controllerPolicy.spec.ingress[0].ports).toEqual([{ port: 8700, protocol: 'TCP' }]);
      if (redis === undefined) return; // external Redis: none of ours to guard
      const redisPolicy = policies.find((p) =>
        selects(p.spec.podSelector.matchLabels, redis.spec.template.metadata.labels),
      );
      expect(redisPolicy.spec.policyTypes).toEqual(['Ingress']);
      expect(redisPolicy.spec.ingress).toHaveLength(1);
      const [rule] = redisPolicy.spec.ingress;
      // Exactly one peer: the controller's pods, in the release's namespace, on Redis's port.
      expect(rule.from).toEqual([{ podSelector: { matchLabels: controllerLabels } }]);
      expect(rule.ports).toEqual([{ port: 6379, protocol: 'TCP' }]);
      // The policy's peer selects the controller and nothing else of the release.
      for (const o of objs.filter((x) => x.spec?.template?.metadata?.labels)) {
        const picked = selects(controllerLabels, o.spec.template.metadata.labels);
        expect(picked, `${o.kind}/${o.metadata.name}`).toBe(o === deploy);
      }
      // Redis demands its generated password, which only Secrets hold.
      expect(find(objs, 'Secret', 'gantry-redis-auth').data.password).toBeTruthy();
      expect(JSON.stringify(find(objs, 'ConfigMap', 'gantry-config'))).not.toContain(
        find(objs, 'Secret', 'gantry-redis-auth').data.password,
      );
    },
  );

  it('helm template: notification URLs are in the Secret, not the ConfigMap', async () => {
    const objs = await template([example('ingress.yaml')]);
    const secret = find(objs, 'Secret', 'gantry-secrets').stringData as Record<string, string>;
    const urls = Object.entries(secret).filter(([k]) => /^GANTRY_NOTIFY_\d+_URL$/.test(k));
    expect(urls.length).toBeGreaterThan(0);
    const config = JSON.stringify(find(objs, 'ConfigMap', 'gantry-config'));
    for (const [key, url] of urls) {
      expect(config).not.toContain(url);
      expect(config).toContain(`\${${key}}`);
    }
  });

  it('helm template: the builder listens on no network, and is off by default', async () => {
    const withBuilder = await template([example('builder.yaml')]);
    const pod = find(withBuilder, 'Deployment', 'gantry').spec.template.spec;
    const builder = pod.containers.find((c: Obj) => c.name === 'builder');
    expect(builder.ports).toBeUndefined();
    expect(builder.args.join(' ')).toMatch(/--host=unix:\/\/\//);
    expect(builder.args.join(' ')).not.toMatch(/tcp:\/\/|0\.0\.0\.0|:2375|:2376/);
    const ports = withBuilder.flatMap((o) => (o.kind === 'Service' ? o.spec.ports : []));
    expect(ports.map((p: Obj) => p.port)).not.toContain(2375);
    const byDefault = await template([]);
    expect(JSON.stringify(byDefault)).not.toContain('"privileged":true');
  });
});

/** The verbs RBAC knows for namespaced resources (the "exactly" half of the check). */
const VERBS = ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete', 'deletecollection'];

describe.runIf(real && helm !== undefined)('helm install into the real API server', () => {
  let cluster: RealTestCluster;
  let admin: KubeConfig;
  let ns: string;
  let apps: string;
  let kubeconfig: string;
  let values: string;
  let asChart: AuthorizationV1Api;

  beforeAll(async () => {
    const env = testEnv();
    const dir = join(env.runDir, uniqueName('helm-real'));
    await mkdir(dir, { recursive: true });
    cluster = await startRealTestCluster(dir);
    ns = cluster.namespace;
    kubeconfig = cluster.adminKubeconfig;
    admin = new KubeConfig();
    admin.loadFromFile(kubeconfig);
    apps = `${ns}-apps`;
    await admin.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name: apps } } });
    // Images from the run's own registry (they are not there: the pods never run, nothing is
    // pulled from outside); the apps' namespace is the run's.
    values = join(dir, 'values.yaml');
    await writeFile(
      values,
      JSON.stringify({
        image: { repository: `${env.registry}/gantry-test/controller`, tag: 'none' },
        targetNamespaces: [apps],
        redis: { internal: { image: { repository: `${env.registry}/gantry-test/redis` } } },
      }),
    );
  }, 180_000);

  afterAll(async () => {
    if (helm !== undefined && kubeconfig) {
      await helmRun(['uninstall', 'gantry', '-n', ns, '--kubeconfig', kubeconfig]).catch(
        () => undefined,
      );
    }
    await admin
      ?.makeApiClient(CoreV1Api)
      .deleteNamespace({ name: apps })
      .catch(() => undefined);
    await cluster?.close();
  });

  it('installs with the API server validating every object, and an upgrade keeps the Redis password', async () => {
    const install = ['-n', ns, '--kubeconfig', kubeconfig, '-f', example('default.yaml')];
    const out = await helmRun(['install', 'gantry', CHART, ...install, '-f', values]);
    expect(out).toContain('STATUS: deployed');
    const core = admin.makeApiClient(CoreV1Api);
    const password = async () =>
      (await core.readNamespacedSecret({ name: 'gantry-redis-auth', namespace: ns })).data
        ?.password;
    const before = await password();
    expect(before).toBeTruthy();
    await helmRun(['upgrade', 'gantry', CHART, ...install, '-f', values]);
    expect(await password()).toBe(before);
    const status = await helmRun(['status', 'gantry', ...install.slice(0, 4)]);
    expect(status).toContain('REVISION: 2');
  }, 120_000);

  it.each(EXAMPLES)(
    '%s: a server-side dry run of the install is accepted by the API server',
    async (file) => {
      const out = await helmRun([
        'install',
        'dry',
        CHART,
        '--dry-run=server',
        '-n',
        ns,
        '--kubeconfig',
        kubeconfig,
        '-f',
        example(file),
        '-f',
        values,
      ]);
      expect(out).toContain('STATUS: pending-install');
    },
    60_000,
  );

  it("gives the chart's ServiceAccount exactly the runtime's verbs, in the apps' namespace only", async () => {
    const token = await admin.makeApiClient(CoreV1Api).createNamespacedServiceAccountToken({
      name: 'gantry',
      namespace: ns,
      body: { spec: { audiences: [], expirationSeconds: 600 } },
    });
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: admin.clusters,
      users: [{ name: 'chart-sa', token: token.status?.token }],
      contexts: [{ name: 'sa', cluster: admin.getCurrentCluster()?.name ?? '', user: 'chart-sa' }],
      currentContext: 'sa',
    });
    asChart = kc.makeApiClient(AuthorizationV1Api);
    const can = async (attrs: {
      verb: string;
      resource: string;
      group?: string;
      namespace?: string;
      subresource?: string;
    }): Promise<boolean> => {
      const review = await asChart.createSelfSubjectAccessReview({
        body: { spec: { resourceAttributes: { group: '', ...attrs } } },
      });
      return review.status?.allowed === true;
    };

    const allowed: string[] = [];
    const granted: string[] = [];
    for (const rule of RBAC_RULES) {
      const [resource, subresource] = rule.resource.split('/') as [string, string | undefined];
      for (const verb of VERBS) {
        const yes = await can({
          verb,
          resource,
          group: rule.apiGroup,
          namespace: apps,
          ...(subresource ? { subresource } : {}),
        });
        if (yes) allowed.push(`${rule.apiGroup}/${rule.resource}:${verb}`);
        if (rule.verbs.includes(verb)) granted.push(`${rule.apiGroup}/${rule.resource}:${verb}`);
      }
    }
    // Every verb the runtime uses, and not one more on those resources.
    expect(allowed.sort()).toEqual(granted.sort());

    const refused: Array<Parameters<typeof can>[0]> = [
      { verb: 'delete', resource: 'namespaces', namespace: apps },
      { verb: 'delete', resource: 'namespaces' },
      { verb: 'create', resource: 'pods', namespace: apps },
      { verb: 'create', resource: 'pods', subresource: 'exec', namespace: apps },
      { verb: 'get', resource: 'pods', subresource: 'exec', namespace: apps },
      { verb: 'create', resource: 'pods', subresource: 'portforward', namespace: apps },
      { verb: 'list', resource: 'secrets', namespace: apps },
      { verb: 'watch', resource: 'secrets', namespace: apps },
      { verb: 'get', resource: 'configmaps', namespace: apps },
      { verb: 'get', resource: 'services', subresource: 'proxy', namespace: apps },
      { verb: 'create', resource: 'deployments', group: 'apps', namespace: apps },
      {
        verb: 'update',
        resource: 'replicasets',
        subresource: 'scale',
        group: 'apps',
        namespace: apps,
      },
      { verb: 'create', resource: 'roles', group: 'rbac.authorization.k8s.io', namespace: apps },
      {
        verb: 'create',
        resource: 'rolebindings',
        group: 'rbac.authorization.k8s.io',
        namespace: apps,
      },
      { verb: 'escalate', resource: 'roles', group: 'rbac.authorization.k8s.io', namespace: apps },
      { verb: 'bind', resource: 'roles', group: 'rbac.authorization.k8s.io', namespace: apps },
      { verb: 'create', resource: 'serviceaccounts', subresource: 'token', namespace: apps },
      { verb: 'create', resource: 'networkpolicies', group: 'networking.k8s.io', namespace: apps },
      { verb: 'impersonate', resource: 'serviceaccounts', namespace: apps },
      { verb: 'list', resource: 'nodes' },
      { verb: 'create', resource: 'clusterrolebindings', group: 'rbac.authorization.k8s.io' },
      // Other namespaces, its own and the system's included: nothing at all.
      ...['get', 'list', 'create', 'patch', 'delete'].flatMap((verb) =>
        [ns, 'kube-system', 'default'].flatMap((namespace) => [
          { verb, resource: 'pods', namespace },
          { verb, resource: 'secrets', namespace },
          { verb, resource: 'replicasets', group: 'apps', namespace },
          { verb, resource: 'services', namespace },
        ]),
      ),
    ];
    const wrongly: string[] = [];
    for (const attrs of refused) {
      if (await can(attrs)) wrongly.push(JSON.stringify(attrs));
    }
    expect(wrongly).toEqual([]);
  }, 120_000);
});
