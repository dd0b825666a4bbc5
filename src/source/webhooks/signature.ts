/**
 * Constant-time checks of webhook signatures and shared tokens. Every comparison goes through
 * `timingSafeEqual` on two buffers of a length fixed in advance, so neither the time taken nor an
 * exception reveals how much of a forged value was right, or how long the secret is.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

const SHA256_HEX = /^[0-9a-fA-F]{64}$/;

/** The lower-case hex HMAC-SHA256 of a body, as GitHub and Gitea sign it. */
export function hmacSha256Hex(secret: string, rawBody: Buffer): string {
  return createHmac('sha256', secret).update(rawBody).digest('hex');
}

/** Whether `signatureHex` is the HMAC-SHA256 of the body under `secret`; false for any malformed input. */
export function verifyHmacSha256(
  secret: string,
  rawBody: Buffer,
  signatureHex: string | undefined,
): boolean {
  // An empty secret would make the signature computable by anyone, so it never verifies.
  if (secret === '' || signatureHex === undefined || !SHA256_HEX.test(signatureHex)) return false;
  // The regex pins the claimed digest to 32 bytes, the same length as ours, so this cannot throw.
  const claimed = Buffer.from(signatureHex, 'hex');
  const expected = createHmac('sha256', secret).update(rawBody).digest();
  return timingSafeEqual(claimed, expected);
}

/** Whether a shared token (GitLab's `X-Gitlab-Token`) equals the secret, in constant time. */
export function verifySharedToken(secret: string, token: string | undefined): boolean {
  if (secret === '' || token === undefined || token === '') return false;
  // Hashing both sides gives equal-length buffers whatever the token's length, so a short or long
  // guess neither throws nor leaks the secret's length through an early return.
  return timingSafeEqual(sha256(token), sha256(secret));
}

/** The lower-case hex SHA-256 of a provider name followed by the body: a stable stand-in delivery id. */
export function bodyDigest(provider: string, rawBody: Buffer): string {
  return createHash('sha256').update(provider, 'utf8').update(rawBody).digest('hex');
}

function sha256(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}
