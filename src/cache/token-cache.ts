import { randomBytes } from 'node:crypto';
import type { Logger } from 'typeorm';
import { OAuthStorageError } from '../errors';
import type { CacheLike } from './cache-like';

/** How long a cache call may take before the storage goes to the database instead. */
const DEFAULT_CACHE_TIMEOUT_MS = 250;

const TIMED_OUT = Symbol('timed out');
const FAILED = Symbol('failed');

/** Length of a generation id: 16 random bytes in base64url. */
const GENERATION_LENGTH = 22;

/** What a cache read found: the stored token text, or the generation to fill a miss with (null: do not fill). */
export type CacheRead = { hit: string } | { hit?: undefined; generation: string | null };

/**
 * Wraps the app's cache so that it can only make calls faster, never fail,
 * stall or return a replaced token.
 *
 * Coherence: a plain "delete after write" leaves a race (Flask-Dance has it):
 * a `get` that missed reads the old row, the `set` writes and deletes, then
 * the `get` puts the old token back. So entries carry a generation, kept under
 * its own key: writers replace the generation after writing the row, and an
 * entry counts only while its generation is the current one. A late fill from
 * before the write lands under an old generation and is never read. A reader
 * that finds no generation creates one before it reads the row, so whatever
 * it fills is at least as new as any write that came before. Generations are
 * random, never reused, and expire with `cacheTtl` like entries: a missing
 * generation only means a miss. The generic get/set/delete interface gives no
 * compare-and-set, which is why this is built here and not left to the cache.
 *
 * Availability: every call is bounded by a timeout, and an error or a timeout
 * counts as a miss (reads) or is ignored (writes). The first failure of an
 * outage is reported once through the DataSource's logger. If an invalidation
 * itself fails, an entry may outlive its row until `cacheTtl`.
 */
export class TokenCache {
  readonly #cache: CacheLike;
  readonly #remove: (key: string) => unknown;
  readonly #getMany: ((keys: string[]) => unknown) | undefined;
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
    this.#getMany = typeof cache.getMany === 'function' ? cache.getMany : typeof cache.mget === 'function' ? cache.mget : undefined;
    this.#ttl = options.ttl;
    this.#timeout = options.timeout ?? DEFAULT_CACHE_TIMEOUT_MS;
    this.#logger = options.logger;
  }

  /** The cached stored text for `key`, or the generation a miss may be filled under. */
  async read(key: string): Promise<CacheRead> {
    const both = this.#getBoth(generationKey(key), key);
    const [generation, entry] = isThenable(both) ? await both : both;
    if (generation === FAILED || entry === FAILED) return { generation: null };
    if (typeof generation === 'string') {
      if (typeof entry === 'string' && entry.startsWith(generation)) return { hit: entry.slice(GENERATION_LENGTH) };
      return { generation };
    }
    const created = newGeneration();
    return (await this.#call('set', () => this.#cache.set(generationKey(key), created, this.#ttl))) === FAILED
      ? { generation: null }
      : { generation: created };
  }

  /** Two keys in one call where the cache can (one round trip to Redis), else two calls issued together. */
  #getBoth(first: string, second: string): [unknown, unknown] | Promise<[unknown, unknown]> {
    const getMany = this.#getMany;
    if (getMany) {
      const values = this.#call('get', () => getMany.call(this.#cache, [first, second]));
      return isThenable(values) ? Promise.resolve(values).then(pair) : pair(values);
    }
    const a = this.#call('get', () => this.#cache.get(first));
    const b = this.#call('get', () => this.#cache.get(second));
    return isThenable(a) || isThenable(b) ? Promise.all([a, b]) : [a, b];
  }

  /** Caches `stored` under the generation a previous `read` handed out. */
  async fill(key: string, generation: string, stored: string): Promise<void> {
    await this.#call('set', () => this.#cache.set(key, generation + stored, this.#ttl));
  }

  /** Makes every cached entry for `key` stale; call after the row has changed. */
  async invalidate(key: string): Promise<void> {
    // The new generation is what makes old entries stale; deleting the entry only frees its memory.
    await Promise.all([
      this.#call('set', () => this.#cache.set(generationKey(key), newGeneration(), this.#ttl)),
      this.#call('delete', () => this.#remove.call(this.#cache, key)),
    ]);
  }

  /**
   * Runs one cache call: its value, or FAILED after an error or the timeout.
   * A cache that answers synchronously (an in-process Map) gets its answer
   * back synchronously, without timers: for such caches the timer would cost
   * more than the lookup.
   */
  #call(operation: string, run: () => unknown): unknown {
    let result: unknown;
    try {
      result = run();
    } catch (error) {
      return this.#failed(operation, error);
    }
    if (!isThenable(result)) {
      this.#failing = false;
      return result;
    }
    return this.#settle(operation, result);
  }

  async #settle(operation: string, pending: PromiseLike<unknown>): Promise<unknown> {
    let timer: NodeJS.Timeout | undefined;
    try {
      const result = await Promise.race([
        pending,
        new Promise<typeof TIMED_OUT>((resolve) => {
          timer = setTimeout(resolve, this.#timeout, TIMED_OUT);
        }),
      ]);
      if (result === TIMED_OUT) {
        this.#report(operation, `no answer within ${this.#timeout} ms`);
        return FAILED;
      }
      this.#failing = false;
      return result;
    } catch (error) {
      return this.#failed(operation, error);
    } finally {
      clearTimeout(timer);
    }
  }

  #failed(operation: string, error: unknown): typeof FAILED {
    // Only the error's kind: a cache client's message may quote the value it was given.
    const code = (error as { code?: unknown } | null)?.code;
    this.#report(operation, `${(error as Error | null)?.name ?? 'error'}${code ? ` ${String(code)}` : ''}`);
    return FAILED;
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

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | null)?.then === 'function';
}

function pair(values: unknown): [unknown, unknown] {
  return Array.isArray(values) ? [values[0], values[1]] : [FAILED, FAILED];
}

function generationKey(key: string): string {
  return `${key}:generation`;
}

function newGeneration(): string {
  return randomBytes(16).toString('base64url');
}
