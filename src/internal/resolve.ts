import type { Resolvable } from '../types';

/** The value itself, or what the function returns (awaited). */
export async function resolveValue<T>(value: Resolvable<T>): Promise<T> {
  return typeof value === 'function' ? await (value as () => T | Promise<T>)() : value;
}
