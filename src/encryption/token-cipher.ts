import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { OAuthStorageError, TokenDecryptionError } from '../errors';

/** Keys for encrypting tokens at rest, by key id. */
export interface EncryptionOptions {
  /**
   * Every key that may have encrypted a stored token, by id. Keys are 32 random
   * bytes: a Buffer/Uint8Array, or a base64 string of one
   * (`openssl rand -base64 32`). Keep old keys until `rotate()` has moved every
   * row to the current one.
   */
  keys: Record<string, Uint8Array | string>;
  /** Id of the key new tokens are encrypted with; must be one of `keys`. */
  current: string;
}

const ALGORITHM = 'aes-256-gcm';
const KEY_BYTES = 32;
const NONCE_BYTES = 12;

/**
 * What the token column holds for an encrypted token: still valid JSON, but
 * only the key id and the AES-256-GCM nonce, ciphertext and tag.
 */
interface Envelope {
  alg: typeof ALGORITHM;
  kid: string;
  iv: string;
  ct: string;
  tag: string;
}

/**
 * AES-256-GCM with rotatable keys (node:crypto; no home-made cryptography).
 * Each token is bound to its owner (provider and user) as associated data, so
 * a ciphertext copied into another row does not decrypt.
 */
export class TokenCipher {
  readonly #keys: Map<string, Buffer>;
  readonly #currentId: string;
  readonly #current: Buffer;

  constructor(options: EncryptionOptions) {
    if (typeof options !== 'object' || options === null || typeof options.keys !== 'object' || options.keys === null) {
      throw new OAuthStorageError('encryption needs { keys: { id: key }, current: id }');
    }
    this.#keys = new Map(Object.entries(options.keys).map(([id, key]) => [id, toKey(id, key)]));
    if (this.#keys.size === 0) throw new OAuthStorageError('encryption.keys must hold at least one key');
    const current = typeof options.current === 'string' ? this.#keys.get(options.current) : undefined;
    if (!current) throw new OAuthStorageError('encryption.current must be the id of one of encryption.keys');
    this.#currentId = options.current;
    this.#current = current;
  }

  /** The envelope (JSON text) for a token's JSON text, bound to `owner`. */
  seal(json: string, owner: string): string {
    const iv = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv(ALGORITHM, this.#current, iv);
    cipher.setAAD(Buffer.from(owner));
    const ct = Buffer.concat([cipher.update(json, 'utf8'), cipher.final()]);
    const envelope: Envelope = {
      alg: ALGORITHM,
      kid: this.#currentId,
      iv: iv.toString('base64'),
      ct: ct.toString('base64'),
      tag: cipher.getAuthTag().toString('base64'),
    };
    return JSON.stringify(envelope);
  }

  /** The token JSON inside an envelope; throws TokenDecryptionError rather than return anything else. */
  open(envelope: Envelope, owner: string, what: string): string {
    const key = this.#keys.get(envelope.kid);
    if (!key) throw new TokenDecryptionError(`${what} was encrypted with key id "${envelope.kid}", which is not configured`);
    try {
      const decipher = createDecipheriv(ALGORITHM, key, Buffer.from(envelope.iv, 'base64'));
      decipher.setAAD(Buffer.from(owner));
      decipher.setAuthTag(Buffer.from(envelope.tag, 'base64'));
      return Buffer.concat([decipher.update(Buffer.from(envelope.ct, 'base64')), decipher.final()]).toString('utf8');
    } catch (error) {
      throw new TokenDecryptionError(`${what} failed to decrypt: it was altered, or belongs to another row`, { cause: error });
    }
  }

  /** Whether a stored value is already encrypted under the current key. */
  isCurrent(stored: unknown): boolean {
    return isEnvelope(stored) && stored.kid === this.#currentId;
  }
}

/** Tells an envelope from a plaintext token (rows written before encryption was turned on). */
export function isEnvelope(value: unknown): value is Envelope {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return v.alg === ALGORITHM && typeof v.kid === 'string' && typeof v.iv === 'string' && typeof v.ct === 'string' &&
    typeof v.tag === 'string' && Object.keys(v).length === 5;
}

function toKey(id: string, key: Uint8Array | string): Buffer {
  let bytes: Buffer | undefined;
  if (typeof key === 'string') {
    const decoded = Buffer.from(key, 'base64');
    // Buffer.from ignores stray characters; a key that does not round-trip was not base64.
    if (decoded.toString('base64').replace(/=+$/, '') === key.replace(/=+$/, '')) bytes = decoded;
  } else if (key instanceof Uint8Array) {
    bytes = Buffer.from(key);
  }
  if (!bytes || bytes.length !== KEY_BYTES) {
    throw new OAuthStorageError(
      `encryption key "${id}" must be ${KEY_BYTES} bytes (a Buffer, a Uint8Array or a base64 string of ${KEY_BYTES} bytes)`,
    );
  }
  return bytes;
}
