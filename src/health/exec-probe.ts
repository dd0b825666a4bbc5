/** Exec health check: a command inside the instance, exit 0 is healthy. */
import { errorMessage, isGantryError } from '../errors.js';
import type { Instance, Runtime } from '../runtime/runtime.js';
import { execDetail } from './detail.js';
import type { ProbeResult } from './probe-result.js';

export async function execProbe(
  runtime: Runtime,
  instance: Instance,
  command: readonly string[],
  timeoutMs: number,
): Promise<ProbeResult> {
  try {
    const { exitCode, output } = await runtime.exec(instance, command, timeoutMs);
    return { ok: exitCode === 0, detail: execDetail(exitCode, output), at: Date.now() };
  } catch (e) {
    const detail = isGantryError(e, 'GANTRY_ERR_EXEC_TIMEOUT')
      ? `exec: no exit within ${timeoutMs} ms`
      : `exec failed: ${errorMessage(e)}`;
    return { ok: false, detail, at: Date.now() };
  }
}
