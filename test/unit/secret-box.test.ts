/** Sealed secrets: only the right key, at the right place, opens them; rotation re-seals. */
import { describe, expect, it } from 'vitest';
import { SecretBox, keyId, newKeyText, parseKey } from '../../src/release/secret-box.js';

const place = { app: 'shop', env: 'production', name: 'DATABASE_URL', version: 1 };
const key = () => parseKey(newKeyText(), 'test');

describe('SecretBox', () => {
  it('seals to a text that holds neither the value nor the key, and opens it back', () => {
    const k = key();
    const box = new SecretBox(k);
    const sealed = box.seal(place, 'postgres://user:hunter2@db/shop');
    expect(sealed).not.toContain('hunter2');
    expect(sealed).not.toContain(k.toString('hex'));
    expect(sealed.split('.')[1]).toBe(keyId(k));
    expect(box.open(place, sealed)).toBe('postgres://user:hunter2@db/shop');
    // A fresh IV each time: the same value seals differently.
    expect(box.seal(place, 'x')).not.toBe(box.seal(place, 'x'));
  });

  it.each([
    { name: 'another app', other: { ...place, app: 'evil' } },
    { name: 'another environment', other: { ...place, env: 'staging' } },
    { name: 'another name', other: { ...place, name: 'PAYMENTS_DB_URL' } },
    { name: 'another version', other: { ...place, version: 2 } },
  ])('refuses a value moved to $name', ({ other }) => {
    const box = new SecretBox(key());
    const sealed = box.seal(place, 'v');
    expect(() => box.open(other, sealed)).toThrow(/GANTRY_ERR_SECRET_UNREADABLE|cannot be opened/);
  });

  it('refuses a tampered value and an unknown key, naming the place but no value', () => {
    const box = new SecretBox(key());
    const sealed = box.seal(place, 'topsecret');
    const parts = sealed.split('.');
    parts[4] = Buffer.from('tampered').toString('base64url');
    expect(() => box.open(place, parts.join('.'))).toThrow(/DATABASE_URL.*does not authenticate/);
    const stranger = new SecretBox(key());
    try {
      stranger.open(place, sealed);
      expect.unreachable();
    } catch (e) {
      expect((e as Error).message).toContain('does not have');
      expect((e as Error).message).not.toContain('topsecret');
    }
  });

  it('opens with a previous key after a rotation and knows what to re-seal', () => {
    const old = key();
    const sealed = new SecretBox(old).seal(place, 'v1');
    const rotated = new SecretBox(key(), [old]);
    expect(rotated.isCurrent(sealed)).toBe(false);
    const resealed = rotated.seal(place, rotated.open(place, sealed));
    expect(rotated.isCurrent(resealed)).toBe(true);
    expect(rotated.open(place, resealed)).toBe('v1');
  });

  it.each([
    { text: 'abc', ok: false },
    { text: 'a'.repeat(64), ok: true },
    { text: Buffer.alloc(32, 7).toString('base64'), ok: true },
    { text: Buffer.alloc(16, 7).toString('base64'), ok: false },
  ])('parses a key of the right length only ($text)', ({ text, ok }) => {
    if (ok) expect(parseKey(text, 'k')).toHaveLength(32);
    else expect(() => parseKey(text, 'k')).toThrow(/32 bytes/);
  });
});
