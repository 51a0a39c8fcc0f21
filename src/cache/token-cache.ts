import type { Logger } from 'typeorm';
import { OAuthStorageError } from '../errors';
import type { CacheLike } from './cache-like';

/** How long a cache call may take before the storage goes to the database instead. */
export const DEFAULT_CACHE_TIMEOUT_MS = 250;

const TIMED_OUT = Symbol('timed out');

/**
 * Wraps the app's cache so that it can only make calls faster, never fail or
 * stall them: every call is bounded by a timeout, and an error or a timeout
 * counts as a miss (for reads) or is ignored (for writes). The first failure
 * of an outage is reported once through the DataSource's logger.
 *
 * Tokens are cached as JSON text, so callers never share (and cannot mutate)
 * one cached object.
 */
export class TokenCache {
  readonly #cache: CacheLike;
  readonly #remove: (key: string) => unknown;
  readonly #ttl: number | undefined;
  readonly #timeout: number;
  readonly #logger: () => Logger;
  #failing = false;

  constructor(cache: CacheLike, options: { ttl?: number; timeout?: number; logger: () => Logger }) {
    const remove = typeof cache.delete === 'function' ? cache.delete : cache.del;
    if (typeof cache.get !== 'function' || typeof cache.set !== 'function' || typeof remove !== 'function') {
      throw new OAuthStorageError('cache must have get(key), set(key, value, ttl?) and delete(key) or del(key) methods');
    }
    for (const [name, value] of [['cacheTtl', options.ttl], ['cacheTimeout', options.timeout]] as const) {
      if (value !== undefined && !(Number.isFinite(value) && value > 0)) {
        throw new OAuthStorageError(`${name} must be a positive number of milliseconds`);
      }
    }
    this.#cache = cache;
    this.#remove = remove;
    this.#ttl = options.ttl;
    this.#timeout = options.timeout ?? DEFAULT_CACHE_TIMEOUT_MS;
    this.#logger = options.logger;
  }

  /** The cached token JSON, or undefined on a miss, an error or a timeout. */
  async get(key: string): Promise<string | undefined> {
    const value = await this.#call('get', () => this.#cache.get(key));
    return typeof value === 'string' ? value : undefined;
  }

  async set(key: string, json: string): Promise<void> {
    await this.#call('set', () => this.#cache.set(key, json, this.#ttl));
  }

  async delete(key: string): Promise<void> {
    await this.#call('delete', () => this.#remove.call(this.#cache, key));
  }

  async #call(operation: string, run: () => unknown): Promise<unknown> {
    let timer: NodeJS.Timeout | undefined;
    try {
      const result = await Promise.race([
        Promise.resolve().then(run),
        new Promise<typeof TIMED_OUT>((resolve) => {
          timer = setTimeout(resolve, this.#timeout, TIMED_OUT);
        }),
      ]);
      if (result === TIMED_OUT) {
        this.#report(operation, `no answer within ${this.#timeout} ms`);
        return undefined;
      }
      this.#failing = false;
      return result;
    } catch (error) {
      // Only the error's kind: a cache client's message may quote the value it was given.
      const code = (error as { code?: unknown }).code;
      this.#report(operation, `${(error as Error)?.name ?? 'error'}${code ? ` ${String(code)}` : ''}`);
      return undefined;
    } finally {
      clearTimeout(timer);
    }
  }

  #report(operation: string, reason: string): void {
    if (this.#failing) return;
    this.#failing = true;
    this.#logger().log(
      'warn',
      `typeorm-oauth-storage: cache ${operation} failed (${reason}); using the database until the cache answers again`,
    );
  }
}
