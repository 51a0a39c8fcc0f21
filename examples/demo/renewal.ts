import type { RefreshFunction, UserId } from '../../src';
import type { OAuthClient } from './oauth-client';

/** Why a token was renewed: a request needed it, or the background job found it about to expire. */
export type RenewalCause = 'request' | 'background job';

/**
 * The refresh function `getValid` gets for one user's token: Demo ID's
 * refresh-token grant, then one log line saying whose token was renewed and
 * why (never the token). `getValid` calls it only when a renewal is due, and
 * once however many callers ask, so the log holds one line per renewal.
 */
export function renewer(oauth: OAuthClient, userId: UserId, cause: RenewalCause): RefreshFunction {
  return async (token) => {
    const renewed = await oauth.refresh(token);
    const lifetime = typeof renewed.expires_in === 'number' ? `valid for ${renewed.expires_in} s` : 'without an expiry';
    console.log(`Renewed user #${userId}'s Demo ID token (${cause}): the new access token is ${lifetime}`);
    return renewed;
  };
}
