import { InvalidProviderError, InvalidTokenError } from '../errors';
import type { OAuthToken } from '../types';
import { expiresAtOf, withExpiresAt } from './expiry';

/** Longest provider name the `provider` column (varchar 50) holds. */
const MAX_PROVIDER_LENGTH = 50;

export function assertProvider(provider: unknown): asserts provider is string {
  if (
    typeof provider !== 'string' ||
    provider.length === 0 ||
    provider.length > MAX_PROVIDER_LENGTH ||
    !isStorableString(provider)
  ) {
    throw new InvalidProviderError(
      `provider must be a non-empty string of at most ${MAX_PROVIDER_LENGTH} characters, ` +
        `without NUL or lone surrogates (got ${describe(provider)})`,
    );
  }
}

/**
 * Checks that `token` is a plain object that JSON holds exactly, and returns its
 * JSON text, with `expires_at` added when the token only has `expires_in`. `JSON.stringify` alone would silently drop `undefined`, turn `NaN`
 * into `null` and Dates into strings, so the token read back would differ from
 * the one stored; this walk refuses those instead. Messages name the path only:
 * token values are secrets.
 */
export function serializeToken(token: unknown): string {
  return encodeToken(token).json;
}

/** {@link serializeToken}, plus the expiry the storage indexes. */
export function encodeToken(token: unknown): { json: string; expiresAt: number | null } {
  if (!isPlainObject(token)) {
    throw new InvalidTokenError(`token must be a plain JSON object (got ${describe(token)})`);
  }
  checkJsonValue(token, 'token', new Set());
  const complete = withExpiresAt(token);
  return { json: JSON.stringify(complete), expiresAt: expiresAtOf(complete) };
}

function checkJsonValue(value: unknown, path: string, ancestors: Set<object>): void {
  switch (typeof value) {
    case 'string':
      checkString(value, path);
      return;
    case 'boolean':
      return;
    case 'number':
      if (!Number.isFinite(value) || Object.is(value, -0)) {
        throw new InvalidTokenError(`${path} is a number JSON cannot hold exactly`);
      }
      return;
    case 'object': {
      if (value === null) return;
      if (ancestors.has(value)) throw new InvalidTokenError(`${path} refers back to itself (circular)`);
      ancestors.add(value);
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) {
          if (!(i in value)) throw new InvalidTokenError(`${path}[${i}] is a hole, which JSON cannot hold`);
          checkJsonValue(value[i], `${path}[${i}]`, ancestors);
        }
      } else if (isPlainObject(value)) {
        if (Object.getOwnPropertySymbols(value).length > 0) {
          throw new InvalidTokenError(`${path} has symbol keys, which JSON cannot hold`);
        }
        for (const key of Object.keys(value)) {
          checkString(key, `${path} key`);
          checkJsonValue((value as Record<string, unknown>)[key], `${path}.${key}`, ancestors);
        }
      } else {
        throw new InvalidTokenError(`${path} is a ${describe(value)}, not plain JSON`);
      }
      ancestors.delete(value);
      return;
    }
    default:
      throw new InvalidTokenError(`${path} is ${describe(value)}, which JSON cannot hold`);
  }
}

/**
 * Strings every database holds exactly: a lone surrogate has no UTF-8 form,
 * and PostgreSQL's jsonb refuses the NUL character (and would quote the token
 * back in its error).
 */
function checkString(value: string, path: string): void {
  if (!isStorableString(value)) {
    throw new InvalidTokenError(`${path} has a NUL character or a lone surrogate, which PostgreSQL or UTF-8 cannot hold`);
  }
}

/** Whether every database stores the string exactly (see {@link checkString}); for providers and user ids too. */
export function isStorableString(value: string): boolean {
  return value.isWellFormed() && !value.includes('\u0000');
}

export function isPlainObject(value: unknown): value is OAuthToken {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  // Not `proto === Object.prototype`: objects from another realm (vm contexts, test runners, some
  // HTTP clients) have their own Object.prototype. Class instances, Dates and Maps have a longer chain.
  return proto === null || Object.getPrototypeOf(proto) === null;
}

/** Names the kind of a value without showing it (values may be secrets). */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') {
    const name = (value as object).constructor?.name;
    return name && name !== 'Object' ? `a ${name}` : 'an object';
  }
  return typeof value === 'undefined' ? 'undefined' : `a ${typeof value}`;
}
