/**
 * The few calls of the registry's HTTP API v2 that pruning needs: a repository's tags, a tag's
 * manifest digest, and deleting a manifest. Basic credentials are sent as they are (htpasswd
 * registries) or traded for a bearer token when the registry asks for one (GHCR, Docker Hub).
 * Credentials never appear in an error message.
 */
import { GantryError, errorMessage } from '../errors.js';
import { basicAuthorization, type RegistryAccess } from './credentials.js';

/** Every manifest kind Gantry's builds may push: asked for on reads, so digests match. */
export const MANIFEST_TYPES = [
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.oci.image.index.v1+json',
].join(', ');

const TIMEOUT_MS = 30_000;
/** A repository Gantry builds into holds at most this many tags we look at in one prune. */
const MAX_TAGS = 10_000;

/** Plain HTTP for a registry on loopback (Docker trusts 127.0.0.0/8 without TLS too), else HTTPS. */
export function registryBaseUrl(address: string): string {
  const host = address.replace(/:\d+$/, '');
  const local = host === 'localhost' || /^127\.\d+\.\d+\.\d+$/.test(host);
  return `${local ? 'http' : 'https'}://${address}`;
}

/** A client for one registry; `scope` of a bearer token is per repository, asked for on demand. */
export class RegistryApi {
  private readonly base: string;
  private readonly tokens = new Map<string, string>();

  constructor(private readonly access: RegistryAccess) {
    this.base = registryBaseUrl(access.address);
  }

  /** The repository's tags ([] when it does not exist). */
  async tags(repository: string): Promise<string[]> {
    const res = await this.send('GET', repository, `/v2/${repository}/tags/list?n=${MAX_TAGS}`);
    if (res.status === 404) return [];
    this.check(res, `list the tags of ${repository}`);
    const body = (await res.json()) as { tags?: string[] | null };
    return (body.tags ?? []).slice(0, MAX_TAGS);
  }

  /** The digest `ref` (a tag or digest) names, or undefined when the registry has no such manifest. */
  async digest(repository: string, ref: string): Promise<string | undefined> {
    const res = await this.send('HEAD', repository, `/v2/${repository}/manifests/${ref}`);
    if (res.status === 404) return undefined;
    this.check(res, `read manifest ${repository}:${ref}`);
    return res.headers.get('docker-content-digest') ?? undefined;
  }

  /** Deletes a manifest by digest (every tag on it goes too); one already gone is no error. */
  async deleteManifest(repository: string, digest: string): Promise<void> {
    const res = await this.send('DELETE', repository, `/v2/${repository}/manifests/${digest}`);
    if (res.status === 404) return;
    if (res.status === 405) {
      throw new GantryError(
        'GANTRY_ERR_REGISTRY_REJECTED',
        `registry ${this.access.address} does not allow deletes (docker-registry: storage.delete.enabled: true)`,
      );
    }
    this.check(res, `delete manifest ${repository}@${digest}`);
  }

  private check(res: Response, what: string): void {
    if (res.ok) return;
    if (res.status === 401 || res.status === 403) {
      throw new GantryError(
        'GANTRY_ERR_REGISTRY_AUTH',
        `registry ${this.access.address} refused to ${what} (${res.status}): check registry.username and registry.passwordEnv`,
      );
    }
    throw new GantryError(
      res.status >= 500 ? 'GANTRY_ERR_REGISTRY_UNAVAILABLE' : 'GANTRY_ERR_REGISTRY_REJECTED',
      `registry ${this.access.address} answered ${res.status} to ${what}`,
    );
  }

  private async send(method: string, repository: string, path: string): Promise<Response> {
    const first = await this.fetch(method, path, this.authorization(repository));
    const challenge = first.headers.get('www-authenticate') ?? '';
    if (first.status !== 401 || !/^bearer /i.test(challenge) || !this.access.credentials) {
      return first;
    }
    await first.body?.cancel();
    const token = await this.bearer(challenge, repository);
    return this.fetch(method, path, `Bearer ${token}`);
  }

  private authorization(repository: string): string | undefined {
    const token = this.tokens.get(repository);
    return token ? `Bearer ${token}` : basicAuthorization(this.access.credentials);
  }

  /** Trades the credentials for a token with pull, push and delete on `repository`. */
  private async bearer(challenge: string, repository: string): Promise<string> {
    const params = Object.fromEntries(
      [...challenge.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1]!.toLowerCase(), m[2]!]),
    );
    if (!params.realm)
      throw new GantryError('GANTRY_ERR_REGISTRY_AUTH', 'registry sent no token realm');
    const url = new URL(params.realm);
    if (params.service) url.searchParams.set('service', params.service);
    url.searchParams.set('scope', `repository:${repository}:pull,push,delete`);
    const res = await this.fetch(
      'GET',
      url.toString(),
      basicAuthorization(this.access.credentials),
    );
    this.check(res, `issue a token for ${repository}`);
    const body = (await res.json()) as { token?: string; access_token?: string };
    const token = body.token ?? body.access_token;
    if (!token)
      throw new GantryError('GANTRY_ERR_REGISTRY_AUTH', 'registry token answer held no token');
    this.tokens.set(repository, token);
    return token;
  }

  private async fetch(
    method: string,
    pathOrUrl: string,
    authorization?: string,
  ): Promise<Response> {
    const url = pathOrUrl.startsWith('/') ? `${this.base}${pathOrUrl}` : pathOrUrl;
    try {
      return await fetch(url, {
        method,
        headers: {
          accept: MANIFEST_TYPES,
          ...(authorization ? { authorization } : {}),
        },
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
    } catch (cause) {
      throw new GantryError(
        'GANTRY_ERR_REGISTRY_UNAVAILABLE',
        `registry ${this.access.address} is not reachable: ${errorMessage(cause)}`,
        { cause },
      );
    }
  }
}
