import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { EncryptedSecret } from '../core/checklist/model';
import { BwprepError } from '../core/errors';

const ALGORITHM = 'aes-256-gcm';
const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;

function checkKey(key: Buffer): void {
  if (!Buffer.isBuffer(key) || key.length !== KEY_BYTES) {
    throw new BwprepError(
      'no_encryption_key',
      { key: 'error.internal', vars: { ref: 'encryption-key-length' } },
      {
        detail: `the encryption key must be ${KEY_BYTES} bytes (BWPREP_ENCRYPTION_KEY: 64 hex characters or base64)`,
      },
    );
  }
}

function undecryptable(reason: string, cause?: unknown): BwprepError {
  return new BwprepError(
    'internal',
    { key: 'error.internal', vars: { ref: 'secret-undecryptable' } },
    {
      detail: `cannot decrypt a stored secret: ${reason}`,
      cause,
    },
  );
}

/** Encrypts a secret with AES-256-GCM under a fresh random 96-bit IV. The plaintext never leaves this function. */
export function encryptSecret(key: Buffer, plaintext: string): EncryptedSecret {
  checkKey(key);
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv(ALGORITHM, key, iv, { authTagLength: TAG_BYTES });
  const data = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return { v: 1, iv: iv.toString('base64'), tag: cipher.getAuthTag().toString('base64'), data: data.toString('base64') };
}

/**
 * Decrypts a blob from `encryptSecret`. Throws a BwprepError (code `internal`, ref `secret-undecryptable`)
 * when the blob is malformed, was tampered with, or was encrypted under another key.
 */
export function decryptSecret(key: Buffer, blob: EncryptedSecret): string {
  checkKey(key);
  if (blob === null || typeof blob !== 'object' || blob.v !== 1) throw undecryptable('unknown format version');
  const iv = Buffer.from(String(blob.iv), 'base64');
  const tag = Buffer.from(String(blob.tag), 'base64');
  const data = Buffer.from(String(blob.data), 'base64');
  if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) throw undecryptable('malformed iv or tag');
  try {
    const decipher = createDecipheriv(ALGORITHM, key, iv, { authTagLength: TAG_BYTES });
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(data), decipher.final()]).toString('utf8');
  } catch (err) {
    throw undecryptable('wrong BWPREP_ENCRYPTION_KEY or the data was tampered with', err);
  }
}
