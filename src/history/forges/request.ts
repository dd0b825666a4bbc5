/** The one request shape every forge builder returns: a JSON `POST` to the forge's API. Pure. */
import type { OutgoingRequest } from '../outgoing.js';

/** A `POST` of `body` as JSON to `url`, with the forge's auth `headers`. */
export function forgePost(
  url: string,
  headers: Readonly<Record<string, string>>,
  body: object,
): OutgoingRequest {
  return {
    method: 'POST',
    url,
    headers: { ...headers, 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  };
}
