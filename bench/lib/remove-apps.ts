/** What a bench leaves on the engine for its apps: their instances and images, removed. */
import type { Runtime } from '../../src/runtime/runtime.js';

/** Removes every instance and image of `apps` from each of the runtime's hosts; never throws. */
export async function removeApps(runtime: Runtime, apps: readonly string[]): Promise<void> {
  for (const app of apps) {
    for (const i of await runtime.list({ app }).catch(() => [])) {
      await runtime.remove(i).catch(() => undefined);
    }
    for (const host of runtime.hosts()) {
      await runtime.removeImages(host, [], app).catch(() => undefined);
    }
  }
}
