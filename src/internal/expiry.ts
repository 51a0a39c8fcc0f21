import type { OAuthToken } from '../types';

/** Seconds since the epoch, the unit of `expires_at` in requests-oauthlib, Flask-Dance and OAuth libraries. */
export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

/**
 * The token with `expires_at` added when the provider only said `expires_in`:
 * `expires_in` is relative to when the response arrived, so it means nothing
 * once stored unless turned into a point in time right away.
 */
export function withExpiresAt(token: OAuthToken): OAuthToken {
  const expiresIn = seconds(token.expires_in);
  if (token.expires_at !== undefined || expiresIn === null) return token;
  return { ...token, expires_at: nowSeconds() + Math.floor(expiresIn) };
}

/** A number of seconds, also when the provider sent it as a string (`"expires_in": "3599"`, as some do). */
function seconds(value: unknown): number | null {
  const n = typeof value === 'string' && /^\s*-?\d+(\.\d+)?\s*$/.test(value) ? Number(value) : value;
  return typeof n === 'number' && Number.isFinite(n) ? n : null;
}

/** When the token expires (seconds since the epoch), or null when it does not say. */
export function expiresAtOf(token: OAuthToken): number | null {
  const at = seconds(token.expires_at);
  if (at === null) return null;
  // Clamped so the bigint column holds it: a date past 285,000 years from now means "never" all the same.
  return Math.min(Math.max(Math.floor(at), -Number.MAX_SAFE_INTEGER), Number.MAX_SAFE_INTEGER);
}

/** Whether the token stays valid for more than `leewaySeconds` from now; tokens without expiry always do. */
export function isFresh(token: OAuthToken, leewaySeconds: number): boolean {
  const at = expiresAtOf(token);
  return at === null || at - nowSeconds() > leewaySeconds;
}
