/**
 * The test control plane's certificates and keys, made with openssl: one CA for every serving
 * and client certificate (the API server trusts it for clients and kubelets), and the
 * service-account signing key pair. EC P-256 throughout: it is fast to generate.
 */
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** One certificate to issue: its subject, SANs and usage. */
export interface CertRequest {
  /** File stem: `<name>.crt` and `<name>.key`. */
  readonly name: string;
  readonly cn: string;
  /** Organisations: Kubernetes reads them as the user's groups. */
  readonly groups?: readonly string[];
  readonly ips?: readonly string[];
  readonly dns?: readonly string[];
  readonly usage: 'server' | 'client' | 'both';
}

export interface Pki {
  readonly dir: string;
  readonly ca: string;
  readonly caKey: string;
  crt(name: string): string;
  key(name: string): string;
  readonly saKey: string;
  readonly saPub: string;
}

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

/** The openssl argv that issues `req` signed by the CA in `dir` (a builder: nothing runs). */
export function issueArgs(dir: string, req: CertRequest): string[] {
  const subject = `/CN=${req.cn}${(req.groups ?? []).map((g) => `/O=${g}`).join('')}`;
  const sans = [
    ...(req.ips ?? []).map((i) => `IP:${i}`),
    ...(req.dns ?? []).map((d) => `DNS:${d}`),
  ];
  const eku = { server: 'serverAuth', client: 'clientAuth', both: 'serverAuth,clientAuth' }[
    req.usage
  ];
  return [
    'req',
    '-x509',
    '-CA',
    join(dir, 'ca.crt'),
    '-CAkey',
    join(dir, 'ca.key'),
    ...EC,
    '-keyout',
    join(dir, `${req.name}.key`),
    '-out',
    join(dir, `${req.name}.crt`),
    '-days',
    '7',
    '-subj',
    subject,
    '-addext',
    'basicConstraints=critical,CA:FALSE',
    '-addext',
    'keyUsage=critical,digitalSignature,keyEncipherment',
    '-addext',
    `extendedKeyUsage=${eku}`,
    ...(sans.length > 0 ? ['-addext', `subjectAltName=${sans.join(',')}`] : []),
  ];
}

/** Makes the CA, the service-account key pair and every certificate of `requests` in `dir`. */
export async function makePki(dir: string, requests: readonly CertRequest[]): Promise<Pki> {
  const ca = join(dir, 'ca.crt');
  const caKey = join(dir, 'ca.key');
  await run('openssl', [
    'req',
    '-x509',
    ...EC,
    '-keyout',
    caKey,
    '-out',
    ca,
    '-days',
    '7',
    '-subj',
    '/CN=gantry-test-ca',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign,digitalSignature',
  ]);
  const saKey = join(dir, 'sa.key');
  const saPub = join(dir, 'sa.pub');
  await run('openssl', [
    'genpkey',
    '-algorithm',
    'EC',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-out',
    saKey,
  ]);
  await run('openssl', ['pkey', '-in', saKey, '-pubout', '-out', saPub]);
  // Independent of each other: issue them side by side.
  await Promise.all(requests.map((r) => run('openssl', issueArgs(dir, r))));
  await writeFile(join(dir, 'README'), 'Throwaway certificates of one test control plane.\n');
  return {
    dir,
    ca,
    caKey,
    crt: (name) => join(dir, `${name}.crt`),
    key: (name) => join(dir, `${name}.key`),
    saKey,
    saPub,
  };
}
