import { errorMessage, isGantryError } from '../errors.js';
import { apiFailure, isUnreachable } from './client.js';

/** One line for stderr: what went wrong and, for auth, what to do about it. Never the token. */
export function errorLine(e: unknown): string {
  const failure = apiFailure(e);
  if (failure) {
    const hint =
      failure.status === 401
        ? ' — pass --token, set GANTRY_TOKEN, or put token/tokenCommand in the CLI config file'
        : '';
    return `error: ${failure.message} (${failure.code})${hint}`;
  }
  if (isUnreachable(e)) return `error: ${errorMessage(e)}; is \`gantry serve\` running there?`;
  if (isGantryError(e)) return `error: ${e.message} (${e.code})`;
  return `error: ${errorMessage(e)}`;
}
