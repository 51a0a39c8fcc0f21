/**
 * Any cache with `get`, `set` and `delete` (or `del`), sync or async. A `Keyv`
 * instance (with `@keyv/redis` for Redis) and a `cache-manager` cache fit as
 * they are. TTLs are in milliseconds, as both of those take them.
 */
export interface CacheLike {
  get(key: string): unknown;
  set(key: string, value: string, ttl?: number): unknown;
  delete?(key: string): unknown;
  del?(key: string): unknown;
  /** Several keys in one call (Keyv's `getMany`); used when present, to read in one round trip. */
  getMany?(keys: string[]): unknown;
  /** The same under cache-manager's name. */
  mget?(keys: string[]): unknown;
}
