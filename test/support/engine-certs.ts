/**
 * Certificates for a Docker engine on `tcp://…:2376` with `--tlsverify`, made with the openssl
 * CLI as Docker's "Protect the Docker daemon socket" guide does: a CA of the test's own, a server
 * certificate for the engine's IP, and a client certificate the engine accepts. Short-lived and
 * thrown away with the test's directory.
 */
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface EngineCerts {
  /** What the engine gets: `--tlscacert`, `--tlscert`, `--tlskey`. */
  readonly server: { readonly ca: string; readonly cert: string; readonly key: string };
  /** What the controller gets: `runtime.hosts[].tls`. */
  readonly client: { readonly ca: string; readonly cert: string; readonly key: string };
}

/** openssl's argv for an EC key and a CSR (or, with `x509`, a self-signed CA). Pure. */
export function keyAndRequestArgs(key: string, out: string, cn: string, x509: boolean): string[] {
  return [
    'req',
    ...(x509 ? ['-x509', '-days', '2'] : []),
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-subj',
    `/CN=${cn}`,
    '-keyout',
    key,
    '-out',
    out,
  ];
}

/** Makes a CA, a server certificate for `ip` and a client certificate in `dir`. */
export async function makeEngineCerts(dir: string, ip: string): Promise<EngineCerts> {
  const at = (name: string): string => join(dir, name);
  await run('openssl', keyAndRequestArgs(at('ca-key.pem'), at('ca.pem'), 'gantry-test-ca', true));
  const sign = async (who: 'server' | 'client', cn: string, ext: string): Promise<void> => {
    await run('openssl', keyAndRequestArgs(at(`${who}-key.pem`), at(`${who}.csr`), cn, false));
    await writeFile(at(`${who}.ext`), ext);
    await run('openssl', [
      'x509',
      '-req',
      '-days',
      '2',
      '-in',
      at(`${who}.csr`),
      '-CA',
      at('ca.pem'),
      '-CAkey',
      at('ca-key.pem'),
      '-CAcreateserial',
      '-extfile',
      at(`${who}.ext`),
      '-out',
      at(`${who}-cert.pem`),
    ]);
  };
  await sign('server', ip, `subjectAltName=IP:${ip}\nextendedKeyUsage=serverAuth\n`);
  await sign('client', 'gantry-controller', 'extendedKeyUsage=clientAuth\n');
  return {
    server: { ca: at('ca.pem'), cert: at('server-cert.pem'), key: at('server-key.pem') },
    client: { ca: at('ca.pem'), cert: at('client-cert.pem'), key: at('client-key.pem') },
  };
}
