import { assertProvider, serializeToken } from '../internal/validate';
import type { OAuthToken, StorageScope, TokenStorage } from '../types';

/**
 * Extend this to keep tokens anywhere else (a file, a secrets manager, another
 * ORM): implement `get`, `set` and `delete`, as with Flask-Dance's `BaseStorage`.
 * Anything that takes a {@link TokenStorage} accepts the result.
 */
export abstract class BaseStorage<User = unknown> implements TokenStorage<User> {
  /** The stored token for `provider`, or null. */
  abstract get(provider: string, scope?: StorageScope<User>): Promise<OAuthToken | null>;
  /** Stores `token` for `provider`, replacing any earlier one. */
  abstract set(provider: string, token: OAuthToken, scope?: StorageScope<User>): Promise<void>;
  /** Removes the token for `provider`; removing a missing token is not an error. */
  abstract delete(provider: string, scope?: StorageScope<User>): Promise<void>;

  /**
   * Throws {@link InvalidProviderError} unless `provider` is a non-empty string
   * of at most 50 characters. Call it first in each method, so bad input fails
   * the same way in every storage.
   */
  protected assertProvider(provider: unknown): asserts provider is string {
    assertProvider(provider);
  }

  /**
   * The token's JSON text, or {@link InvalidTokenError} when the token is not a
   * plain object that JSON holds exactly (circular, BigInt, Dates, undefined,
   * NaN...). The error names the offending path, never a value. A token with
   * `expires_in` and no `expires_at` gets `expires_at` (seconds since the
   * epoch), as every storage keeps it.
   */
  protected serialize(token: unknown): string {
    return serializeToken(token);
  }
}
