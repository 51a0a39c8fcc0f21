import { TokenDecryptionError } from '../errors';
import type { OAuthToken } from '../types';
import { isEnvelope, TokenCipher } from './token-cipher';

/**
 * Turns token JSON into what the token column holds and back: an envelope
 * when the storage has keys, the JSON itself otherwise. Envelopes found
 * without keys are refused rather than handed out as tokens.
 */
export class TokenCodec {
  readonly cipher: TokenCipher | null;

  constructor(cipher: TokenCipher | null) {
    this.cipher = cipher;
  }

  /** What to store for a token's JSON text, bound to its row. */
  encode(json: string, row: { ownerKey: string }): string {
    return this.cipher ? this.cipher.seal(json, row.ownerKey) : json;
  }

  /** The token in a stored value (column JSON text). */
  decode(stored: string, row: { provider: string; ownerKey: string }): OAuthToken {
    const value = JSON.parse(stored);
    if (!isEnvelope(value)) return value;
    const what = `The stored "${row.provider}" token`;
    if (!this.cipher) throw new TokenDecryptionError(`${what} is encrypted, but the storage has no encryption keys`);
    return JSON.parse(this.cipher.open(value, row.ownerKey, what));
  }
}
