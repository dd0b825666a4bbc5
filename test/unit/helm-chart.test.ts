/**
 * The Helm chart, checked without a cluster: Chart.yaml, the values schema against every example
 * values file (merged over values.yaml the way Helm merges them) and against nonsense, the Role's
 * rules against the verbs the Kubernetes runtime uses, and the templates' plumbing (helpers,
 * value paths, Secret keys). `helm lint` and `helm template` run only when helm is on PATH.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv, type ErrorObject } from 'ajv';
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import { describe, expect, it } from 'vitest';
import { controllerConfigSchema } from '../../src/config/controller-config-schema.js';
import { RBAC_RULES } from '../../src/runtime/kubernetes/rbac.js';

const CHART = join(import.meta.dirname, '../../charts/gantry');
const read = (rel: string): string => readFileSync(join(CHART, rel), 'utf8');
const yamlOf = (rel: string): unknown => parseYaml(read(rel));

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Obj = { [k: string]: Json };
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Helm's coalescing of user values over the chart's: maps merge, anything else replaces, null deletes. */
function helmMerge(base: Json, over: Json): Json {
  if (!isObj(base) || !isObj(over)) return over;
  const out: Obj = { ...base };
  for (const [k, v] of Object.entries(over)) {
    if (v === null) delete out[k];
    else out[k] = k in base ? helmMerge(base[k] as Json, v) : v;
  }
  return out;
}

const defaults = yamlOf('values.yaml') as Obj;
const schema = JSON.parse(read('values.schema.json')) as Obj;
const ajv = new Ajv({ allErrors: true, strict: true, strictTypes: false });
const validate = ajv.compile(schema);

function errorsOf(values: Json): ErrorObject[] {
  return validate(values) ? [] : (validate.errors ?? []);
}
const describeErrors = (errs: ErrorObject[]): string =>
  errs.map((e) => `${e.instancePath || '/'} ${e.message ?? ''}`).join('; ');

const EXAMPLES = readdirSync(join(CHART, 'examples')).filter((f) => f.endsWith('.yaml'));
const helm = spawnSync('helm', ['version', '--short'], { encoding: 'utf8' }).status === 0;
const kubeconform = spawnSync('kubeconform', ['-v'], { encoding: 'utf8' }).error === undefined;

describe('Chart.yaml', () => {
  it('has the fields Helm requires, with a semver version', () => {
    const chart = yamlOf('Chart.yaml') as Obj;
    expect(chart.apiVersion).toBe('v2');
    expect(chart.name).toBe('gantry');
    expect(chart.type).toBe('application');
    expect(String(chart.version)).toMatch(/^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$/);
    expect(typeof chart.appVersion).toBe('string');
    const pkg = JSON.parse(readFileSync(join(CHART, '../../package.json'), 'utf8')) as Obj;
    expect(chart.appVersion).toBe(pkg.version);
  });
});

describe('values.schema.json', () => {
  it('is a draft-07 schema that accepts the default values', () => {
    expect(schema.$schema).toBe('http://json-schema.org/draft-07/schema#');
    expect(describeErrors(errorsOf(defaults))).toBe('');
  });

  it.each(EXAMPLES)('accepts examples/%s merged over the defaults', (file) => {
    const merged = helmMerge(defaults, yamlOf(`examples/${file}`) as Json);
    expect(describeErrors(errorsOf(merged))).toBe('');
  });

  it('covers the external Redis and two target namespaces among the examples', () => {
    const ext = helmMerge(defaults, yamlOf('examples/external-redis.yaml') as Json) as Obj;
    expect(ext.redis).toMatchObject({ mode: 'external', external: { url: /^redis:\/\// } });
    const two = helmMerge(defaults, yamlOf('examples/two-namespaces.yaml') as Json) as Obj;
    expect(two.targetNamespaces).toEqual(['production', 'staging']);
  });

  const H = 'sha256:' + 'a'.repeat(64);
  const NONSENSE: { name: string; values: Json; path: string; says: RegExp }[] = [
    { name: 'replicaCount 0', values: { replicaCount: 0 }, path: '/replicaCount', says: />= 1/ },
    {
      name: 'negative replicas',
      values: { replicaCount: -2 },
      path: '/replicaCount',
      says: />= 1/,
    },
    {
      name: 'replicas as text',
      values: { replicaCount: 'two' },
      path: '/replicaCount',
      says: /integer/,
    },
    {
      name: 'unknown top-level key',
      values: { replicas: 3 },
      path: '',
      says: /additional properties/,
    },
    {
      name: 'misspelt nested key',
      values: { ingress: { enable: true } },
      path: '/ingress',
      says: /additional properties/,
    },
    {
      name: 'bad redis mode',
      values: { redis: { mode: 'cluster' } },
      path: '/redis/mode',
      says: /allowed values/,
    },
    {
      name: 'both internal and external Redis',
      values: { redis: { external: { url: 'redis://elsewhere:6379' } } },
      path: '/redis/external/url',
      says: /constant/,
    },
    {
      name: 'external Redis without a URL',
      values: { redis: { mode: 'external' } },
      path: '/redis/external/url',
      says: /fewer than 1/,
    },
    {
      name: 'Redis URL of another scheme',
      values: { redis: { mode: 'external', external: { url: 'http://x' } } },
      path: '/redis/external/url',
      says: /pattern/,
    },
    {
      name: 'no target namespace',
      values: { targetNamespaces: [] },
      path: '/targetNamespaces',
      says: /fewer than 1/,
    },
    {
      name: 'namespace not DNS-1123',
      values: { targetNamespaces: ['Prod_1'] },
      path: '/targetNamespaces/0',
      says: /pattern/,
    },
    {
      name: 'namespace twice',
      values: { targetNamespaces: ['a', 'a'] },
      path: '/targetNamespaces',
      says: /duplicate/,
    },
    {
      name: 'token in clear instead of its hash',
      values: { tokens: [{ name: 'ops', role: 'admin', hash: 'hunter2' }] },
      path: '/tokens/0/hash',
      says: /pattern/,
    },
    {
      name: 'token with an unknown role',
      values: { tokens: [{ name: 'ops', role: 'root', hash: H }] },
      path: '/tokens/0/role',
      says: /allowed values/,
    },
    {
      name: 'short webhook secret',
      values: { repos: [{ name: 'a', url: 'https://g/a.git', webhookSecret: 'short' }] },
      path: '/repos/0/webhookSecret',
      says: /pattern/,
    },
    {
      name: 'webhook secret that breaks YAML quoting',
      values: {
        repos: [{ name: 'a', url: 'https://g/a.git', webhookSecret: "it's a secret, really long" }],
      },
      path: '/repos/0/webhookSecret',
      says: /pattern/,
    },
    {
      name: 'repo over ssh',
      values: { repos: [{ name: 'a', url: 'git@github.com:a/b.git' }] },
      path: '/repos/0/url',
      says: /pattern/,
    },
    {
      name: 'service port out of range',
      values: { service: { port: 70000 } },
      path: '/service/port',
      says: /<= 65535/,
    },
    {
      name: 'bad pull policy',
      values: { image: { pullPolicy: 'Sometimes' } },
      path: '/image/pullPolicy',
      says: /allowed values/,
    },
    {
      name: 'config key the controller rejects',
      values: { config: { build: { concurrency: 0 } } },
      path: '/config/build/concurrency',
      says: />= 1/,
    },
    {
      name: 'unknown config section',
      values: { config: { runtime: { hosts: [] } } },
      path: '/config',
      says: /additional properties/,
    },
    {
      name: 'builder on as text',
      values: { builder: { enabled: 'yes' } },
      path: '/builder/enabled',
      says: /boolean/,
    },
    {
      name: 'app secret name the runtime cannot read',
      values: { appSecrets: { 'database-url': 'x' } },
      path: '/appSecrets',
      says: /property name/,
    },
    {
      name: 'memory without a unit format',
      values: { resources: { limits: { memory: 'lots' } } },
      path: '/resources/limits/memory',
      says: /pattern/,
    },
  ];
  it.each(NONSENSE)('rejects $name at $path', ({ values, path, says }) => {
    const errs = errorsOf(helmMerge(defaults, values));
    expect(errs.length).toBeGreaterThan(0);
    const hit = errs.find((e) => e.instancePath === path && says.test(e.message ?? ''));
    expect(hit, describeErrors(errs)).toBeDefined();
  });

  it("passes config sections through with the controller's own rules", () => {
    // values.schema.json is static JSON; this keeps its copy equal to the controller's schema,
    // less defaults and Gantry's own message keyword (Helm's validator knows neither).
    const ANNOTATIONS = new Set(['default', 'patternErrorMessage']);
    const strip = (v: unknown): unknown =>
      Array.isArray(v)
        ? v.map(strip)
        : isObj(v)
          ? Object.fromEntries(
              Object.entries(v)
                .filter(([k]) => !ANNOTATIONS.has(k))
                .map(([k, x]) => [k, strip(x)]),
            )
          : v;
    const ours = ((schema.properties as Obj).config as Obj).properties as Obj;
    const theirs = controllerConfigSchema.properties as Record<string, unknown>;
    for (const key of Object.keys(ours)) {
      expect(ours[key], `config.${key}`).toEqual(JSON.parse(JSON.stringify(strip(theirs[key]))));
    }
  });
});

describe('RBAC', () => {
  /** Rules flattened to one verb set per (group, resource), order-free. */
  const flatten = (rules: { groups: string[]; resources: string[]; verbs: string[] }[]) => {
    const out = new Map<string, string[]>();
    for (const r of rules)
      for (const g of r.groups)
        for (const res of r.resources) {
          const key = `${g}/${res}`;
          out.set(key, [...new Set([...(out.get(key) ?? []), ...r.verbs])].sort());
        }
    return Object.fromEntries([...out].sort(([a], [b]) => a.localeCompare(b)));
  };

  it('grants exactly the verbs the Kubernetes runtime uses (RBAC_RULES)', () => {
    const file = yamlOf('files/rbac-rules.yaml') as {
      apiGroups: string[];
      resources: string[];
      verbs: string[];
    }[];
    const chart = flatten(
      file.map((r) => ({ groups: r.apiGroups, resources: r.resources, verbs: r.verbs })),
    );
    const runtime = flatten(
      RBAC_RULES.map((r) => ({
        groups: [r.apiGroup],
        resources: [r.resource],
        verbs: [...r.verbs],
      })),
    );
    expect(chart).toEqual(runtime);
    expect(JSON.stringify(chart)).not.toContain('*');
  });

  it('takes the Role rules from that file only, one Role and RoleBinding per target namespace', () => {
    const role = read('templates/role.yaml');
    expect(role).toContain('{{- $.Files.Get "files/rbac-rules.yaml" | nindent 2 }}');
    expect(role).toMatch(/range \.Values\.targetNamespaces/);
    expect(role).toMatch(/namespace: \{\{ \. \}\}/);
    // The template itself grants nothing: no verbs, resources or apiGroups of its own.
    expect(role).not.toMatch(/^\s*-?\s*(verbs|resources|apiGroups):/m);
    expect(read('templates/rolebinding.yaml')).toMatch(/range \.Values\.targetNamespaces/);
    for (const t of templates()) {
      expect(read(`templates/${t}`), t).not.toMatch(/kind:\s*Cluster(Role|RoleBinding)/);
    }
  });
});

function templates(): string[] {
  return readdirSync(join(CHART, 'templates')).filter((f) => /\.(ya?ml|tpl|txt)$/.test(f));
}

describe('templates (without helm)', () => {
  const all = templates().map((f) => ({ file: f, text: read(`templates/${f}`) }));

  it.each(all.map((t) => t.file))('%s has balanced {{ }} actions', (file) => {
    const text = read(`templates/${file}`);
    expect(text.split('{{').length).toBe(text.split('}}').length);
    let depth = 0;
    for (const m of text.matchAll(/\{\{-?\s*(if|range|with|define|else|end)\b/g)) {
      if (m[1] === 'end') depth--;
      else if (m[1] !== 'else') depth++;
      expect(depth, `${file}: {{ end }} without a block`).toBeGreaterThanOrEqual(0);
    }
    expect(depth, `${file}: unclosed block`).toBe(0);
  });

  it('includes only helpers that are defined, and defines none that are unused', () => {
    const defined = new Set(
      all.flatMap((t) => [...t.text.matchAll(/define "([^"]+)"/g)].map((m) => m[1])),
    );
    const used = new Set(
      all.flatMap((t) => [...t.text.matchAll(/include "([^"]+)"/g)].map((m) => m[1])),
    );
    expect([...used].filter((u) => !defined.has(u))).toEqual([]);
    expect([...defined].filter((d) => !used.has(d))).toEqual([]);
  });

  it('reads only value paths that values.yaml or the values schema declares', () => {
    // A misspelt path renders as empty in Helm, silently; here it is an error.
    const missing: string[] = [];
    for (const { file, text } of all) {
      for (const m of text.matchAll(/\.Values((?:\.[A-Za-z][A-Za-z0-9]*)+)/g)) {
        const keys = m[1]!.slice(1).split('.');
        let value: Json | undefined = defaults;
        let declared: Json | undefined = schema;
        for (const key of keys) {
          value = isObj(value) ? value[key] : undefined;
          declared =
            isObj(declared) && isObj(declared.properties) ? declared.properties[key] : undefined;
        }
        if (value === undefined && declared === undefined) missing.push(`${file}: .Values${m[1]}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it('writes every Secret key the config references', () => {
    const keysIn = (text: string): string[] =>
      [...new Set([...text.matchAll(/GANTRY_[A-Z_]*(?:\{\{ \$i \}\}_[A-Z_]+)?/g)].map((m) => m[0]))]
        .filter((k) => !k.endsWith('_'))
        .sort();
    const config = read('templates/configmap.yaml');
    const secret = read('templates/secret.yaml');
    const refs = keysIn(config.replace(/^.*#.*$/gm, '')).filter((k) => /\{\{/.test(k));
    expect(refs.length).toBeGreaterThanOrEqual(4);
    for (const k of refs) expect(secret, k).toContain(`${k}:`);
    // The Redis URL: from the Secret for an external Redis, set by the Deployment otherwise.
    expect(config).toContain("url: '${GANTRY_REDIS_URL}'");
    expect(secret).toContain('GANTRY_REDIS_URL:');
    expect(read('templates/deployment.yaml')).toMatch(/name: GANTRY_REDIS_URL/);
  });

  it('runs Redis with AOF and noeviction, on a volume claim when persistence is on', () => {
    const redis = read('templates/redis.yaml');
    expect(redis).toMatch(/- --appendonly\s+- 'yes'/);
    expect(redis).toMatch(/- --maxmemory-policy\s+- noeviction/);
    expect(redis).toMatch(/volumeClaimTemplates:/);
  });

  it('probes the controller on /healthz and starts it with the mounted config', () => {
    const d = read('templates/deployment.yaml');
    expect(d).toContain('httpGet: { path: /healthz, port: http }');
    expect(d).toContain("args: ['serve', '--config', '/etc/gantry/gantry.config.yaml']");
    expect(d).toContain('mountPath: /etc/gantry');
    expect(read('templates/configmap.yaml')).toMatch(/listen: \{ host: 0\.0\.0\.0, port: 8700 \}/);
  });
});

describe('helm lint and helm template', () => {
  if (!helm) console.warn('helm not on PATH: helm lint/template skipped');
  it.skipIf(!helm).each(EXAMPLES)('lints and renders with examples/%s', (file) => {
    const values = join(CHART, 'examples', file);
    execFileSync('helm', ['lint', CHART, '--strict', '-f', values], { encoding: 'utf8' });
    const out = execFileSync('helm', ['template', 'gantry', CHART, '-n', 'gantry', '-f', values], {
      encoding: 'utf8',
    });
    const docs = parseAllDocuments(out)
      .map((d) => d.toJS() as Obj | null)
      .filter(isObj);
    const kinds = docs.map((d) => d.kind);
    expect(kinds).toEqual(expect.arrayContaining(['Deployment', 'Service', 'ConfigMap', 'Role']));
    const merged = helmMerge(defaults, yamlOf(`examples/${file}`) as Json) as Obj;
    const ns = merged.targetNamespaces as string[];
    expect(kinds.filter((k) => k === 'Role')).toHaveLength(ns.length);
    if (kubeconform) {
      const dir = mkdtempSync(join(tmpdir(), 'gantry-chart-'));
      writeFileSync(join(dir, 'out.yaml'), out);
      execFileSync('kubeconform', ['-strict', '-summary', join(dir, 'out.yaml')], {
        encoding: 'utf8',
      });
    } else {
      console.warn('kubeconform not on PATH: schema validation of rendered manifests skipped');
    }
  });
});
