/**
 * Renders charts/gantry for tests without Helm: `chart-render/main.go` is Helm's engine in small
 * (Go text/template + sprig + include/toYaml/…), built here from Debian's Go packages when they
 * are installed. Also a strict field check of rendered objects against the Kubernetes API models
 * that @kubernetes/client-node is generated from (unknown fields and wrong types, as
 * `kubeconform -strict` would report; required fields are not checked).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as models from '@kubernetes/client-node/dist/gen/models/all.js';
import { parseAllDocuments } from 'yaml';

const GOCODE = '/usr/share/gocode';
const SOURCES = join(import.meta.dirname, 'chart-render');

/** Why the renderer cannot be built here, or undefined when it can. */
export function rendererMissing(): string | undefined {
  if (spawnSync('go', ['version']).status !== 0) return 'go is not installed';
  for (const pkg of ['github.com/Masterminds/sprig', 'sigs.k8s.io/yaml']) {
    if (!existsSync(join(GOCODE, 'src', pkg))) return `${pkg} is not in ${GOCODE}`;
  }
  return undefined;
}

/** Builds the renderer (GOPATH mode over Debian's packaged Go sources); returns the binary. */
export function buildRenderer(): string {
  const gopath = mkdtempSync(join(tmpdir(), 'gantry-chart-render-'));
  // Inside a GOPATH with a go.mod, so `sprig/v3` resolves to Debian's sprig (Go's minimal
  // module compatibility); GO111MODULE=off keeps the build offline.
  const src = join(gopath, 'src', 'gantrychartrender');
  mkdirSync(src, { recursive: true });
  for (const f of ['main.go', 'go.mod']) copyFileSync(join(SOURCES, f), join(src, f));
  const bin = join(gopath, 'chart-render');
  execFileSync('go', ['build', '-o', bin, '.'], {
    cwd: src,
    env: {
      ...process.env,
      GO111MODULE: 'off',
      GOPATH: `${gopath}:${GOCODE}`,
      GOFLAGS: '',
      GOCACHE: process.env.GOCACHE ?? join(tmpdir(), 'gantry-go-cache'),
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  return bin;
}

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [field: string]: unknown;
}

export interface Rendered {
  /** Every object, in template file order. */
  objects: K8sObject[];
  notes: string;
}

/** Renders the chart like `helm template RELEASE CHART -n NAMESPACE -f VALUES…`. */
export function renderChart(
  bin: string,
  chart: string,
  valuesFiles: string[],
  release = 'gantry',
  namespace = 'gantry',
): Rendered {
  const out = execFileSync(bin, [chart, release, namespace, ...valuesFiles], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const { manifests, notes } = JSON.parse(out) as {
    manifests: Record<string, string>;
    notes: string;
  };
  const objects: K8sObject[] = [];
  for (const name of Object.keys(manifests).sort()) {
    for (const doc of parseAllDocuments(manifests[name]!)) {
      if (doc.errors.length > 0) throw new Error(`${name}: ${doc.errors[0]!.message}`);
      const value = doc.toJS() as K8sObject | null;
      if (value !== null) objects.push(value);
    }
  }
  return { objects, notes };
}

interface Attribute {
  baseName: string;
  type: string;
}
type Model = { getAttributeTypeMap(): Attribute[] };

/** The client-node model of an object: `apps/v1` Deployment → V1Deployment. */
function modelOf(apiVersion: string, kind: string): string {
  const version = apiVersion.split('/').at(-1)!;
  return `${version.charAt(0).toUpperCase()}${version.slice(1)}${kind}`;
}

/** Unknown fields and wrongly typed values of `obj`, each as `Kind/name: path: problem`. */
export function kubernetesFieldErrors(obj: K8sObject): string[] {
  const errors: string[] = [];
  const where = `${obj.kind}/${obj.metadata?.name}`;
  const check = (value: unknown, type: string, path: string): void => {
    if (value === null || value === undefined) return;
    const bad = (what: string) => errors.push(`${where}: ${path}: ${what}`);
    const list = /^Array<(.+)>$/.exec(type);
    const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
    if (type === 'any' || type === 'object') return;
    if (type === 'string' || type === 'Date' || type === 'V1MicroTime') {
      if (typeof value !== 'string') bad(`expected a string, got ${JSON.stringify(value)}`);
    } else if (type === 'number') {
      if (typeof value !== 'number') bad(`expected a number, got ${JSON.stringify(value)}`);
    } else if (type === 'boolean') {
      if (typeof value !== 'boolean') bad(`expected a boolean, got ${JSON.stringify(value)}`);
    } else if (type === 'IntOrString') {
      if (typeof value !== 'string' && typeof value !== 'number') bad('expected int or string');
    } else if (list) {
      if (!Array.isArray(value)) bad('expected a list');
      else value.forEach((v, i) => check(v, list[1]!, `${path}[${i}]`));
    } else if (map) {
      if (typeof value !== 'object' || Array.isArray(value)) bad('expected a map');
      else for (const [k, v] of Object.entries(value)) check(v, map[1]!, `${path}.${k}`);
    } else {
      const model = (models as unknown as Record<string, Model | undefined>)[type];
      if (!model) {
        bad(`no Kubernetes model ${type}`);
        return;
      }
      if (typeof value !== 'object' || Array.isArray(value)) {
        bad(`expected a ${type}`);
        return;
      }
      const attrs = model.getAttributeTypeMap();
      for (const [k, v] of Object.entries(value)) {
        const attr = attrs.find((a) => a.baseName === k);
        if (!attr) bad(`unknown field "${k}" in ${type}`);
        else check(v, attr.type, path ? `${path}.${k}` : k);
      }
    }
  };
  check(obj, modelOf(obj.apiVersion, obj.kind), '');
  return errors;
}
