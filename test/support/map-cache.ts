import type { CacheLike } from '../../src';

/** An app's in-process cache with only get/set/delete: the smallest cache the storage accepts. */
export function mapCache(): CacheLike & { clear(): void } {
  const map = new Map<string, string>();
  return { get: (k) => map.get(k), set: (k, v) => void map.set(k, v), delete: (k) => map.delete(k), clear: () => map.clear() };
}
