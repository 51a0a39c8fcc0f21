/**
 * Base class of every error this package throws, so apps can tell storage
 * failures apart from their own with one `instanceof` check.
 */
export class OAuthStorageError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/**
 * Thrown when a storage that requires a user is asked to read, write or
 * delete a token and no user (or only an anonymous one) is available.
 * Nothing is written when it is thrown.
 */
export class UserRequiredError extends OAuthStorageError {
  constructor() {
    super('Cannot get OAuth token without an associated user');
  }
}

/**
 * Thrown by `set` when the token is not a plain JSON object that survives a
 * JSON round trip unchanged. The message names the offending path, never a value.
 */
export class InvalidTokenError extends OAuthStorageError {}

/**
 * Thrown when a provider name is not a non-empty string of at most 50 characters.
 */
export class InvalidProviderError extends OAuthStorageError {}

/**
 * Thrown when a user object or user id cannot identify a row owner: an object
 * without its primary key, or an id that is neither a non-empty string nor a
 * finite number.
 */
export class InvalidUserError extends OAuthStorageError {}

/**
 * Thrown when a stored token cannot be decrypted: it was tampered with, it
 * was encrypted under a key id the storage no longer has, it was copied from
 * another user's or provider's row, or encryption is not configured for a
 * table that holds encrypted tokens. Never returns garbage instead.
 */
export class TokenDecryptionError extends OAuthStorageError {}

/**
 * Thrown by `getValid` when the app's refresh function failed (its error is the
 * `cause`), returned something that is not a token, or took longer than
 * `refreshTimeout`. The stored token is left as it was, unless the provider
 * answered `invalid_grant` and `onInvalidGrant` is `'delete'`.
 */
export class TokenRefreshError extends OAuthStorageError {}
