/**
 * The registry's garbage collection: deleting manifests frees nothing until the blobs no manifest
 * references are removed. For a local `docker-registry` whose config file Gantry is told
 * (`registry.prune.gcConfig`) it runs `docker-registry garbage-collect`; any other registry runs
 * its own (GHCR, ECR, Docker Hub do it themselves; a self-run one on a schedule of the operator).
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { GantryError, errorMessage } from '../errors.js';

const run = promisify(execFile);
const GC_TIMEOUT_MS = 10 * 60_000;

/** What `garbage-collect` printed, reduced to the number of blobs it removed. Pure. */
export function blobsDeleted(output: string): number {
  return output
    .split('\n')
    .filter((l) => /^blob eligible for deletion|deleting blob/i.test(l.trim())).length;
}

/** Runs `docker-registry garbage-collect CONFIG`; resolves with how many blobs it deleted. */
export async function collectGarbage(configFile: string): Promise<number> {
  try {
    const { stdout, stderr } = await run('docker-registry', ['garbage-collect', configFile], {
      timeout: GC_TIMEOUT_MS,
      maxBuffer: 64 * 1024 * 1024,
    });
    return blobsDeleted(`${stdout}\n${stderr}`);
  } catch (e) {
    // The output may name blobs and paths, never credentials (the config holds none we wrote).
    throw new GantryError(
      'GANTRY_ERR_REGISTRY_UNAVAILABLE',
      `docker-registry garbage-collect ${configFile} failed: ${errorMessage(e).split('\n')[0]}`,
      { cause: e },
    );
  }
}
