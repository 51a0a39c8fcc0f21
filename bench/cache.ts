import { deepStrictEqual, strictEqual } from 'node:assert';
import { randomBytes } from 'node:crypto';
import KeyvRedis from '@keyv/redis';
import Keyv from 'keyv';
import type { DataSource } from 'typeorm';
import type { CacheLike } from '../src';
import { REDIS_URL } from '../test/support/services';
import { PROVIDERS, storageContender, TOKEN } from './contenders';
import type { CountingLogger } from './counting-logger';
import { compareLatency, type Latency } from './measure';
import type { Profile } from './options';
import { progress } from './progress';

/**
 * The smallest in-process cache there is, so the `memory` number is the
 * storage's own cost of a cache hit and not a cache library's.
 */
export class MapCache implements CacheLike {
  readonly #map = new Map<string, string>();
  get(key: string): string | undefined {
    return this.#map.get(key);
  }
  set(key: string, value: string): void {
    this.#map.set(key, value);
  }
  delete(key: string): void {
    this.#map.delete(key);
  }
}

export interface CacheLatencies {
  /** A Map-backed cache. */
  readonly memory: Latency;
  /** Keyv's own in-memory store, as an app would likely use it. */
  readonly keyvMemory: Latency;
  /** Keyv on Redis through @keyv/redis. */
  readonly redis: Latency;
}

/** A Keyv on Redis in a namespace of its own, so clearing it on close touches nothing else. */
export async function openRedisCache(): Promise<{ keyv: Keyv; close(): Promise<void> }> {
  const store = new KeyvRedis(REDIS_URL, { connectionTimeout: 3000 });
  try {
    await store.getClient();
  } catch (error) {
    throw new Error(`Redis is not reachable at ${REDIS_URL} (${(error as Error).message}); start it or set REDIS_URL`);
  }
  const namespace = `oauth-bench-${randomBytes(6).toString('hex')}`;
  // Every key expires on its own, in case the run is killed before it can clear the namespace.
  const keyv = new Keyv({ store, namespace, ttl: 10 * 60_000 });
  progress(`Redis namespace ${namespace} in use`);
  return {
    keyv,
    async close() {
      await keyv.clear();
      await keyv.disconnect();
      progress(`Redis namespace ${namespace} cleared`);
    },
  };
}

/**
 * Cached `get` hits, through a storage on the given DataSource. Each cache is
 * checked first: after one `get` fills it, a `get` must run no SQL, or the
 * number would be the database's (the storage falls back to it silently when
 * a cache fails).
 */
export async function measureCaches(
  dataSource: DataSource,
  logger: CountingLogger,
  redis: Keyv,
  userId: number,
  profile: Profile,
): Promise<CacheLatencies> {
  const caches = { memory: new MapCache(), keyvMemory: new Keyv(), redis };
  const gets = {} as Record<keyof CacheLatencies, () => Promise<unknown>>;
  for (const [name, cache] of Object.entries(caches) as Array<[keyof CacheLatencies, CacheLike]>) {
    const storage = storageContender(dataSource, cache);
    await storage.set(PROVIDERS.hit, userId, TOKEN);
    await storage.get(PROVIDERS.hit, userId);
    let cached: unknown;
    const statements = await logger.count(async () => (cached = await storage.get(PROVIDERS.hit, userId)));
    strictEqual(statements, 0, `a ${name} cache hit runs no SQL`);
    deepStrictEqual(cached, TOKEN);
    gets[name] = () => storage.get(PROVIDERS.hit, userId);
  }
  return compareLatency(gets, profile);
}
