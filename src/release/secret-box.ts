/**
 * Secrets at rest: AES-256-GCM under the controller's key, with the value's place (app, env,
 * name, version) as additional data, so a ciphertext copied to another app or name does not
 * open. Each sealed value names the key it was sealed with (the first 8 bytes of the key's
 * SHA-256), so the key can be rotated: unseal with any known key, re-seal with the current one.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { GantryError } from '../errors.js';

/** A sealed value as stored: `v1.<keyId>.<iv>.<tag>.<ciphertext>`, each part base64url. */
export type Sealed = string;

/** Where a secret value belongs; bound into the ciphertext. */
export interface SecretPlace {
  readonly app: string;
  readonly env: string;
  readonly name: string;
  readonly version: number;
}

const KEY_BYTES = 32;
const IV_BYTES = 12;

/** The 16-hex id of a key: safe to store and show, says nothing about the key. */
export function keyId(key: Buffer): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 16);
}

/** A 32-byte key from its text form: 64 hex digits or base64 of 32 bytes. */
export function parseKey(text: string, source: string): Buffer {
  const t = text.trim();
  const key = /^[0-9a-fA-F]{64}$/.test(t) ? Buffer.from(t, 'hex') : Buffer.from(t, 'base64');
  if (key.length !== KEY_BYTES) {
    throw new GantryError(
      'GANTRY_ERR_CONFIG_INVALID',
      `${source}: a secrets key must be 32 bytes, as 64 hex digits or base64 (got ${key.length} bytes)`,
    );
  }
  return key;
}

/** A fresh random key in the form `parseKey` reads. */
export function newKeyText(): string {
  return randomBytes(KEY_BYTES).toString('hex');
}

export class SecretBox {
  private readonly byId = new Map<string, Buffer>();
  readonly currentKeyId: string;

  /** `current` seals; `previous` keys only open values sealed before a rotation. */
  constructor(
    private readonly current: Buffer,
    previous: readonly Buffer[] = [],
  ) {
    this.currentKeyId = keyId(current);
    for (const k of [current, ...previous]) this.byId.set(keyId(k), k);
  }

  seal(place: SecretPlace, value: string): Sealed {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.current, iv);
    cipher.setAAD(aad(place));
    const ct = Buffer.concat([cipher.update(value, 'utf8'), cipher.final()]);
    const tag = cipher.getAuthTag();
    return ['v1', this.currentKeyId, b64(iv), b64(tag), b64(ct)].join('.');
  }

  /** The value, or GANTRY_ERR_SECRET_UNREADABLE (unknown key, tampered, moved elsewhere). */
  open(place: SecretPlace, sealed: Sealed): string {
    const [v, id, iv, tag, ct] = sealed.split('.');
    const key = id === undefined ? undefined : this.byId.get(id);
    if (v !== 'v1' || !key || iv === undefined || tag === undefined || ct === undefined) {
      throw unreadable(
        place,
        key ? 'malformed' : `sealed with key ${id ?? '?'}, which this controller does not have`,
      );
    }
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
      decipher.setAAD(aad(place));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([
        decipher.update(Buffer.from(ct, 'base64url')),
        decipher.final(),
      ]).toString('utf8');
    } catch {
      throw unreadable(place, 'it does not authenticate (tampered, or moved from another place)');
    }
  }

  /** Whether `sealed` was sealed with the current key (rotation skips those). */
  isCurrent(sealed: Sealed): boolean {
    return sealed.split('.')[1] === this.currentKeyId;
  }
}

function aad(p: SecretPlace): Buffer {
  return Buffer.from(`gantry-secret\n${p.app}\n${p.env}\n${p.name}\n${p.version}`, 'utf8');
}

function b64(b: Buffer): string {
  return b.toString('base64url');
}

function unreadable(p: SecretPlace, why: string): GantryError {
  // Names the place, never the value.
  return new GantryError(
    'GANTRY_ERR_SECRET_UNREADABLE',
    `secret ${p.name} (version ${p.version}) of ${p.app}/${p.env} cannot be opened: ${why}`,
  );
}
