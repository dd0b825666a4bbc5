import { GantryError } from '../errors.js';
import { MANIFEST_TYPES } from '../registry/registry-api.js';

/**
 * Asks a registry (Distribution API v2, plain HTTP on loopback) which digest a tag points at.
 * Returns undefined when the tag does not exist.
 */
export async function registryDigest(
  registry: string,
  repository: string,
  tag: string,
): Promise<string | undefined> {
  let res: Response;
  try {
    res = await fetch(`http://${registry}/v2/${repository}/manifests/${tag}`, {
      method: 'HEAD',
      headers: { accept: MANIFEST_TYPES },
    });
  } catch (cause) {
    throw new GantryError(
      'GANTRY_ERR_REGISTRY_UNAVAILABLE',
      `registry ${registry} is not reachable`,
      { cause },
    );
  }
  if (res.status === 404) return undefined;
  if (!res.ok) {
    throw new GantryError(
      'GANTRY_ERR_REGISTRY_UNAVAILABLE',
      `registry ${registry} answered ${res.status}`,
    );
  }
  return res.headers.get('docker-content-digest') ?? undefined;
}

/** Tags of a repository in the registry ([] when it has none). */
export async function registryTags(registry: string, repository: string): Promise<string[]> {
  const res = await fetch(`http://${registry}/v2/${repository}/tags/list`);
  if (res.status === 404) return [];
  const body = (await res.json()) as { tags?: string[] | null };
  return body.tags ?? [];
}
