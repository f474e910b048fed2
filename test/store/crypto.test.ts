import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { isBwprepError } from '../../src/core/errors';
import { decryptSecret, encryptSecret } from '../../src/store/crypto';

const key = randomBytes(32);

function flip(b64: string): string {
  const buf = Buffer.from(b64, 'base64');
  buf[0] = buf[0]! ^ 0x01;
  return buf.toString('base64');
}

describe('secret encryption (AES-256-GCM)', () => {
  it('round-trips unicode and empty secrets', () => {
    for (const s of ['s3cr3t-ÄÖ-✓-geheim', '', 'x'.repeat(5000)]) expect(decryptSecret(key, encryptSecret(key, s))).toBe(s);
  });

  it('uses a fresh 12-byte IV, so equal secrets encrypt differently, and never holds the plaintext', () => {
    const a = encryptSecret(key, 'same-secret');
    const b = encryptSecret(key, 'same-secret');
    expect(a.v).toBe(1);
    expect(Buffer.from(a.iv, 'base64')).toHaveLength(12);
    expect(Buffer.from(a.tag, 'base64')).toHaveLength(16);
    expect(a.iv).not.toBe(b.iv);
    expect(a.data).not.toBe(b.data);
    expect(JSON.stringify(a)).not.toContain('same-secret');
  });

  it('refuses a wrong key with a clear error', () => {
    const blob = encryptSecret(key, 'secret');
    const err = (() => {
      try {
        return decryptSecret(randomBytes(32), blob);
      } catch (e) {
        return e;
      }
    })();
    expect(isBwprepError(err)).toBe(true);
    expect((err as Error).message).toMatch(/cannot decrypt a stored secret: wrong BWPREP_ENCRYPTION_KEY or the data was tampered with/);
    expect((err as Error).message).not.toContain('secret"');
  });

  it.each(['data', 'tag', 'iv'] as const)('detects tampering with %s', (part) => {
    const blob = encryptSecret(key, 'secret');
    expect(() => decryptSecret(key, { ...blob, [part]: flip(blob[part]) })).toThrow(/cannot decrypt a stored secret/);
  });

  it('rejects malformed blobs and keys of the wrong length', () => {
    const blob = encryptSecret(key, 'secret');
    expect(() => decryptSecret(key, { ...blob, v: 2 as 1 })).toThrow(/unknown format version/);
    expect(() => decryptSecret(key, { ...blob, tag: '' })).toThrow(/malformed iv or tag/);
    expect(() => encryptSecret(randomBytes(16), 'secret')).toThrow(/must be 32 bytes/);
    expect(() => decryptSecret(randomBytes(31), blob)).toThrow(/must be 32 bytes/);
  });
});
