/**
 * charts/gantry rendered for every example values file — by Helm's template engine in small
 * (test/support/chart-render: Go text/template + sprig, built from Debian's Go packages), since
 * Helm itself cannot be installed here — and the objects checked: fields against the Kubernetes
 * API models, the Role against the runtime's RBAC_RULES, the config through the controller's own
 * parser, and every name one object uses to find another.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseControllerConfig } from '../../src/config/controller-config.js';
import { RBAC_RULES } from '../../src/runtime/kubernetes/rbac.js';
import {
  buildRenderer,
  kubernetesFieldErrors,
  renderChart,
  rendererMissing,
  type K8sObject,
  type Rendered,
} from '../support/chart-render.js';
import { helmBinary, templateArgs } from '../support/helm.js';

const CHART = join(import.meta.dirname, '../../charts/gantry');
const EXAMPLES = readdirSync(join(CHART, 'examples')).filter((f) => f.endsWith('.yaml'));
const helmBin = helmBinary();
const helm = helmBin !== undefined;
const missing = rendererMissing();
if (missing) console.warn(`${missing}: rendering the chart without helm skipped`);

// Rendered manifests and values are walked by path in assertions; their shape is what is tested.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Loose = any;
type Values = Record<string, Loose>;
const valuesOf = (file: string): Values => {
  const merge = (a: unknown, b: unknown): unknown => {
    if (!isMap(a) || !isMap(b)) return b;
    const out: Values = { ...a };
    for (const [k, v] of Object.entries(b)) out[k] = v === null ? undefined : merge(a[k], v);
    return out;
  };
  const read = (f: string): unknown => parseYaml(readFileSync(join(CHART, f), 'utf8'));
  return merge(read('values.yaml'), read(`examples/${file}`)) as Values;
};
const isMap = (v: unknown): v is Values => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The one object of a kind (and name, when several). */
function one(r: Rendered, kind: string, name?: string): K8sObject {
  const found = r.objects.filter((o) => o.kind === kind && (!name || o.metadata.name === name));
  expect(
    found.map((o) => o.metadata.name),
    `${kind} ${name ?? ''}`,
  ).toHaveLength(1);
  return found[0]!;
}
const all = (r: Rendered, kind: string) => r.objects.filter((o) => o.kind === kind);
/** The value at a dotted path, or undefined. */
const get = (o: unknown, path: string): Loose =>
  path.split('.').reduce<Loose>((v, k) => (v == null ? undefined : v[k]), o);
/** Every label of `selector` is on `labels`. */
const selects = (selector: Record<string, string>, labels: Record<string, string>) =>
  Object.entries(selector).every(([k, v]) => labels[k] === v);

const flatten = (rules: { apiGroups: string[]; resources: string[]; verbs: string[] }[]) => {
  const out: Record<string, string[]> = {};
  for (const r of rules)
    for (const g of r.apiGroups)
      for (const res of r.resources)
        out[`${g}/${res}`] = [...new Set([...(out[`${g}/${res}`] ?? []), ...r.verbs])].sort();
  return out;
};

describe.skipIf(missing !== undefined)('charts/gantry rendered', () => {
  let bin = '';
  const rendered = new Map<string, Rendered>();
  const render = (file: string): Rendered => {
    if (!rendered.has(file))
      rendered.set(file, renderChart(bin, CHART, [join(CHART, 'examples', file)]));
    return rendered.get(file)!;
  };
  beforeAll(() => {
    bin = buildRenderer();
  }, 180_000);

  it.each(EXAMPLES)('%s: every object is valid against the Kubernetes API models', (file) => {
    const r = render(file);
    expect(r.objects.length).toBeGreaterThan(5);
    expect(r.objects.flatMap(kubernetesFieldErrors)).toEqual([]);
    for (const o of r.objects) {
      expect(o.metadata.name, o.kind).toMatch(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/);
      expect(o.metadata.namespace, `${o.kind}/${o.metadata.name}`).toBeTruthy();
      expect(o.metadata.labels?.['app.kubernetes.io/instance'], o.kind).toBe('gantry');
    }
    const ids = r.objects.map((o) => `${o.kind}/${o.metadata.namespace}/${o.metadata.name}`);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it.each(EXAMPLES)('%s: a Role per target namespace with exactly RBAC_RULES', (file) => {
    const r = render(file);
    const v = valuesOf(file);
    const sa = one(r, 'ServiceAccount');
    const runtime = flatten(
      RBAC_RULES.map((x) => ({
        apiGroups: [x.apiGroup],
        resources: [x.resource],
        verbs: [...x.verbs],
      })),
    );
    expect(all(r, 'Role').map((o) => o.metadata.namespace)).toEqual(v.targetNamespaces);
    for (const role of all(r, 'Role')) {
      expect(flatten(role.rules as never)).toEqual(runtime);
    }
    for (const binding of all(r, 'RoleBinding')) {
      const roles = all(r, 'Role').filter(
        (o) =>
          o.metadata.name === get(binding, 'roleRef.name') &&
          o.metadata.namespace === binding.metadata.namespace,
      );
      expect(roles).toHaveLength(1);
      expect(binding.subjects).toEqual([
        { kind: 'ServiceAccount', name: sa.metadata.name, namespace: sa.metadata.namespace },
      ]);
    }
    expect(all(r, 'RoleBinding')).toHaveLength(v.targetNamespaces.length);
    expect(r.objects.filter((o) => o.kind.startsWith('Cluster'))).toEqual([]);
  });

  it.each(EXAMPLES)('%s: the controller accepts its rendered config', (file) => {
    const r = render(file);
    const v = valuesOf(file);
    const deploy = one(r, 'Deployment', 'gantry');
    const container = get(deploy, 'spec.template.spec.containers')[0];
    const cm = one(r, 'ConfigMap');
    const text = get(cm, 'data')['gantry.config.yaml'] as string;

    // The environment the pod gets: the Secret (envFrom), then the container's own env.
    const secretName = get(container, 'envFrom')[0].secretRef.name as string;
    let env: Record<string, string>;
    if (v.existingSecret) {
      expect(secretName).toBe(v.existingSecret);
      expect(all(r, 'Secret')).toEqual([]);
      // The user's Secret: a stand-in value for every key the config names.
      env = Object.fromEntries(
        [...text.matchAll(/\$\{(GANTRY_[A-Z0-9_]+)\}|passwordEnv: (GANTRY_[A-Z0-9_]+)/g)].map(
          (m) => {
            const key = (m[1] ?? m[2])!;
            return [
              key,
              key.endsWith('_HASH') ? `sha256:${'0'.repeat(64)}` : 'stand-in-secret-value',
            ];
          },
        ),
      );
      env.GANTRY_REDIS_URL ??= 'redis://user-secret:6379';
    } else {
      env = { ...(one(r, 'Secret', secretName).stringData as Record<string, string>) };
    }
    for (const e of get(container, 'env') as { name: string; value: string }[])
      env[e.name] = e.value;

    const cfg = parseControllerConfig(text, { env, file: `${file}: gantry.config.yaml` });
    expect(cfg.listen).toEqual({ host: '0.0.0.0', port: 8700 });
    expect(cfg.runtime).toMatchObject({
      kind: 'kubernetes',
      inCluster: true,
      namespace: v.targetNamespaces[0],
    });
    expect(cfg.redis.prefix).toBe(v.redis.prefix);
    expect(cfg.registry.address).toBe(v.registry.address);
    expect(cfg.tokens.map((t) => [t.name, t.role])).toEqual(
      v.tokens.map((t: Values) => [t.name, t.role]),
    );
    expect(cfg.repos.map((x) => x.name)).toEqual(v.repos.map((x: Values) => x.name));
    if (!v.existingSecret) {
      expect(cfg.tokens.map((t) => t.hash)).toEqual(v.tokens.map((t: Values) => t.hash));
      expect(cfg.repos.map((x) => x.webhookSecret)).toEqual(
        v.repos.map((x: Values) => x.webhookSecret),
      );
      expect(cfg.repos.map((x) => x.credentials?.password)).toEqual(
        v.repos.map((x: Values) => x.credentials?.password),
      );
    }
    // App secrets reach the controller's environment under the name the runtime reads.
    for (const [name, value] of Object.entries((v.appSecrets ?? {}) as Record<string, string>))
      expect(env[`GANTRY_SECRET_${name}`]).toBe(value);
    // Nothing secret in the ConfigMap.
    for (const s of [
      ...v.tokens.map((t: Values) => t.hash),
      ...v.repos.map((x: Values) => x.webhookSecret),
    ])
      if (s) expect(text).not.toContain(s);
    if (v.redis.mode === 'external' && !v.existingSecret)
      expect(text).not.toContain(v.redis.external.url);
  });

  it.each(EXAMPLES)('%s: every object finds the ones it names', (file) => {
    const r = render(file);
    const v = valuesOf(file);
    const deploy = one(r, 'Deployment', 'gantry');
    const pod = get(deploy, 'spec.template');
    const podLabels = get(pod, 'metadata.labels') as Record<string, string>;
    expect(get(deploy, 'spec.replicas')).toBe(v.replicaCount);
    expect(selects(get(deploy, 'spec.selector.matchLabels'), podLabels)).toBe(true);
    expect(get(pod, 'spec.serviceAccountName')).toBe(one(r, 'ServiceAccount').metadata.name);
    const cmName = (get(pod, 'spec.volumes') as Values[]).find((x) => x.name === 'config')!
      .configMap.name;
    expect(one(r, 'ConfigMap').metadata.name).toBe(cmName);

    const svc = one(r, 'Service', 'gantry');
    expect(selects(get(svc, 'spec.selector'), podLabels)).toBe(true);
    const container = get(pod, 'spec.containers')[0];
    const portNames = (container.ports as Values[]).map((p) => p.name);
    for (const p of get(svc, 'spec.ports') as Values[]) expect(portNames).toContain(p.targetPort);
    expect(get(container, 'readinessProbe.httpGet.path')).toBe('/healthz');
    for (const other of all(r, 'Deployment').filter((d) => d !== deploy))
      expect(selects(get(svc, 'spec.selector'), get(other, 'spec.template.metadata.labels'))).toBe(
        false,
      );

    const pdb = all(r, 'PodDisruptionBudget');
    if (v.replicaCount > 1)
      expect(selects(get(pdb[0], 'spec.selector.matchLabels'), podLabels)).toBe(true);

    const ingress = all(r, 'Ingress');
    expect(ingress).toHaveLength(v.ingress.enabled ? 1 : 0);
    for (const ing of ingress) {
      const backend = get(ing, 'spec.rules')[0].http.paths[0].backend.service;
      expect(backend.name).toBe(svc.metadata.name);
      expect((get(svc, 'spec.ports') as Values[]).map((p) => p.name)).toContain(backend.port.name);
      const cfgText = get(one(r, 'ConfigMap'), 'data')['gantry.config.yaml'] as string;
      expect(cfgText).toContain(`publicUrl: https://${v.ingress.host}`);
      expect(r.notes).toContain(`https://${v.ingress.host}/webhooks/github`);
    }
  });

  it.each(EXAMPLES)('%s: Redis in the release, with AOF and noeviction, or none', (file) => {
    const r = render(file);
    const v = valuesOf(file);
    const env = get(one(r, 'Deployment', 'gantry'), 'spec.template.spec.containers')[0]
      .env as Values[];
    const redisUrl = env.find((e) => e.name === 'GANTRY_REDIS_URL');
    const sts = all(r, 'StatefulSet');
    if (v.redis.mode === 'external') {
      expect(sts).toEqual([]);
      expect(redisUrl).toBeUndefined(); // from the Secret
      if (!v.existingSecret)
        expect(get(one(r, 'Secret', 'gantry-secrets'), 'stringData').GANTRY_REDIS_URL).toBe(
          v.redis.external.url,
        );
      return;
    }
    const redis = sts[0]!;
    const args = get(redis, 'spec.template.spec.containers')[0].args as string[];
    expect(args.join(' ')).toContain('--appendonly yes');
    expect(args.join(' ')).toContain('--maxmemory-policy noeviction');
    const svc = one(r, 'Service', get(redis, 'spec.serviceName'));
    expect(selects(get(svc, 'spec.selector'), get(redis, 'spec.template.metadata.labels'))).toBe(
      true,
    );
    // The generated password, from its own Secret: in the URL by reference, in Redis by include.
    const auth = one(r, 'Secret', 'gantry-redis-auth');
    const password = Buffer.from(get(auth, 'data').password as string, 'base64').toString();
    expect(password).toMatch(/^[A-Za-z0-9]{40}$/);
    expect(Buffer.from(get(auth, 'data')['auth.conf'] as string, 'base64').toString()).toBe(
      `requirepass ${password}\n`,
    );
    expect(args.join(' ')).toContain('--include /etc/redis-auth/auth.conf');
    expect(args.join(' ')).not.toContain(password);
    const pw = env.find((e) => e.name === 'GANTRY_REDIS_PASSWORD');
    expect(pw?.valueFrom.secretKeyRef).toEqual({ name: 'gantry-redis-auth', key: 'password' });
    expect(redisUrl?.value).toBe(
      `redis://:$(GANTRY_REDIS_PASSWORD)@${svc.metadata.name}:${get(svc, 'spec.ports')[0].port}`,
    );
    const claims = get(redis, 'spec.volumeClaimTemplates') as Values[] | undefined;
    expect(claims?.[0]?.spec.resources.requests.storage).toBe(
      v.redis.internal.persistence.enabled ? v.redis.internal.persistence.size : undefined,
    );
  });

  // Where Helm is installed, this renderer must agree with it object for object.
  it.skipIf(!helm).each(EXAMPLES)('%s: renders the same objects as helm template', (file) => {
    const out = execFileSync(
      helmBin ?? 'helm',
      templateArgs(CHART, [join(CHART, 'examples', file)]),
      { encoding: 'utf8' },
    );
    const key = (o: K8sObject) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;
    // The Redis password is generated afresh at each render: compared as present, not by value.
    const masked = (o: K8sObject): K8sObject =>
      o.kind === 'Secret' && o.metadata.name === 'gantry-redis-auth' ? { ...o, data: {} } : o;
    const byKey = (objs: K8sObject[]) => Object.fromEntries(objs.map((o) => [key(o), masked(o)]));
    const fromHelm = parseAllDocuments(out)
      .map((d) => d.toJS() as K8sObject | null)
      .filter((o): o is K8sObject => o !== null);
    expect(byKey(render(file).objects)).toEqual(byKey(fromHelm));
  });

  it('tells the installer where to go next, and what is missing', () => {
    const notes = render('default.yaml').notes;
    expect(notes).toContain('kubectl -n gantry port-forward svc/gantry 8700:80');
    expect(notes).toContain('No image builder');
    expect(render('builder.yaml').notes).not.toContain('No image builder');
    expect(render('two-namespaces.yaml').notes).toContain(
      'It deploys into production (its Role is in: production, staging)',
    );
  });

  it('builder.yaml: the builder is a container of the controller pod, on a Unix socket only', () => {
    const r = render('builder.yaml');
    const pod = get(one(r, 'Deployment', 'gantry'), 'spec.template.spec');
    const [controller, builder] = pod.containers as [Values, Values];
    expect(builder.name).toBe('builder');
    expect(builder.args).toContain('--insecure-registry=registry.registry.svc.cluster.local:5000');
    expect(builder.args).toContain('--host=unix:///run/gantry-builder/docker.sock');
    // Never a TCP listener: no port, no tcp:// host, no Service for it.
    expect(builder.ports).toBeUndefined();
    expect(JSON.stringify(builder.args)).not.toMatch(/tcp:|0\.0\.0\.0/);
    expect(all(r, 'Service').map((s) => s.metadata.name)).not.toContain('gantry-builder');
    expect(builder.securityContext.privileged).toBe(true);
    // The socket's volume is shared with the controller only; the SA token is shadowed.
    const mounts = (c: Values) => (c.volumeMounts as Values[]).map((m) => m.name);
    expect(mounts(controller)).toContain('builder-socket');
    expect(mounts(builder)).toContain('builder-no-token');
    const text = get(one(r, 'ConfigMap'), 'data')['gantry.config.yaml'] as string;
    const cfg = parseControllerConfig(text, {
      env: {
        ...(one(r, 'Secret', 'gantry-secrets').stringData as Record<string, string>),
        GANTRY_REDIS_URL: 'redis://x:6379',
      },
    });
    expect(cfg.docker.socketPath).toBe('/run/gantry-builder/docker.sock');
    expect(cfg.build.concurrency).toBe(4);
    // Without the builder, no privileged container at all.
    expect(
      render('default.yaml').objects.some((o) => JSON.stringify(o).includes('"privileged":true')),
    ).toBe(false);
  });
});
