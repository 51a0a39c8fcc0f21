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
  if (token.expires_at !== undefined || typeof token.expires_in !== 'number' || !Number.isFinite(token.expires_in)) {
    return token;
  }
  return { ...token, expires_at: nowSeconds() + Math.floor(token.expires_in) };
}

/** When the token expires (seconds since the epoch), or null when it does not say. */
export function expiresAtOf(token: OAuthToken): number | null {
  const at = token.expires_at;
  if (typeof at !== 'number' || !Number.isFinite(at)) return null;
  // Clamped so the bigint column holds it: a date past 285,000 years from now means "never" all the same.
  return Math.min(Math.max(Math.floor(at), -Number.MAX_SAFE_INTEGER), Number.MAX_SAFE_INTEGER);
}

/** Whether the token stays valid for more than `leewaySeconds` from now; tokens without expiry always do. */
export function isFresh(token: OAuthToken, leewaySeconds: number): boolean {
  const at = expiresAtOf(token);
  return at === null || at - nowSeconds() > leewaySeconds;
}
