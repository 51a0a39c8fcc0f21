/**
 * An OAuth token as the provider returned it: any plain JSON object. The
 * usual fields of RFC 6749 are typed; providers add their own (`id_token`, ...).
 */
export interface OAuthToken {
  access_token?: string;
  token_type?: string;
  refresh_token?: string;
  /** Lifetime of the access token in seconds, from the provider's response. */
  expires_in?: number;
  /** When the access token expires, in seconds since the epoch. */
  expires_at?: number;
  scope?: string | string[];
  // `{} | null` rather than `unknown`: TypeORM's insert/update/upsert types (QueryDeepPartialEntity)
  // accept the former for a jsonb column and refuse the latter; a recursive JSON type makes them too deep.
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type
  [field: string]: {} | null | undefined;
}

/** A value, or a function (sync or async) that returns it when a call needs it. */
export type Resolvable<T> = T | (() => T | Promise<T>);

/** Identifies a user row: its referenced column's value (usually the primary key). */
export type UserId = string | number;

/**
 * Whose token a call is about. A per-call `userId` or `user` wins over the ones
 * the storage was configured with; within one level `userId` wins over `user`.
 */
export interface StorageScope<User = unknown> {
  /** The user object whose token is meant; its id is read from the relation's referenced column. */
  user?: User | null;
  /** The id of the user whose token is meant. */
  userId?: UserId | null;
}

/**
 * What every storage implements: the three calls an OAuth client needs to keep
 * a token for a provider. Write your own by extending {@link BaseStorage}.
 */
export interface TokenStorage<User = unknown> {
  /** The stored token for `provider` (and the scope's user), or `null`. */
  get(provider: string, scope?: StorageScope<User>): Promise<OAuthToken | null>;
  /** Stores `token` for `provider`, replacing any token stored there before. */
  set(provider: string, token: OAuthToken, scope?: StorageScope<User>): Promise<void>;
  /** Removes the token for `provider`; removing a missing token is not an error. */
  delete(provider: string, scope?: StorageScope<User>): Promise<void>;
}
