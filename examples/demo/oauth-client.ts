import * as oidc from 'openid-client';
import type { OAuthToken, TokenRefreshError } from '../../src';

/** What must survive between sending the browser to the provider and its return: kept in the login session. */
export interface PendingAuthorization {
  state: string;
  codeVerifier: string;
}

/** The scopes the demo asks for; `offline_access` is what makes the provider issue a refresh token. */
export const SCOPES = ['openid', 'profile', 'email', 'offline_access'];

/**
 * The app's side of OAuth 2.0 / OpenID Connect, on `openid-client`: the
 * authorization-code flow with PKCE and state, a call to the provider's API
 * with a stored token, and revocation.
 */
export class OAuthClient {
  readonly #config: oidc.Configuration;
  readonly #redirectUri: string;

  private constructor(config: oidc.Configuration, redirectUri: string) {
    this.#config = config;
    this.#redirectUri = redirectUri;
  }

  /** Reads the provider's metadata from its discovery document. */
  static async discover(options: { issuer: URL; clientId: string; clientSecret: string; redirectUri: string }): Promise<OAuthClient> {
    const config = await oidc.discovery(options.issuer, options.clientId, options.clientSecret, undefined, {
      // Both ends listen on 127.0.0.1 only; a real provider is reached over https and this line goes.
      execute: [oidc.allowInsecureRequests],
    });
    return new OAuthClient(config, options.redirectUri);
  }

  /** Where to send the browser, and the secrets to check its return against. */
  async startAuthorization(loginHint: string): Promise<{ url: URL; pending: PendingAuthorization }> {
    const pending = { state: oidc.randomState(), codeVerifier: oidc.randomPKCECodeVerifier() };
    const url = oidc.buildAuthorizationUrl(this.#config, {
      redirect_uri: this.#redirectUri,
      scope: SCOPES.join(' '),
      state: pending.state,
      code_challenge: await oidc.calculatePKCECodeChallenge(pending.codeVerifier),
      code_challenge_method: 'S256',
      // `consent` is required for offline_access; `login` lets several demo users share one browser.
      prompt: 'login consent',
      login_hint: loginHint,
    });
    return { url, pending };
  }

  /**
   * Checks the provider's redirect (state, error) and trades its code for
   * tokens. Returns what the app stores (see {@link storedToken}).
   */
  async finishAuthorization(callbackUrl: URL, pending: PendingAuthorization): Promise<OAuthToken> {
    return storedToken(
      await oidc.authorizationCodeGrant(this.#config, callbackUrl, {
        expectedState: pending.state,
        pkceCodeVerifier: pending.codeVerifier,
      }),
    );
  }

  /**
   * The refresh function `storage.getValid` calls: the refresh-token grant with
   * the stored token's `refresh_token`. Demo ID rotates refresh tokens, so each
   * one works once; the provider's error is thrown as openid-client reports it
   * (`error: 'invalid_grant'` when the grant is gone), which is how the storage
   * tells a revoked grant from a provider that is down.
   */
  async refresh(token: OAuthToken): Promise<OAuthToken> {
    if (typeof token.refresh_token !== 'string') throw new Error('The stored token has no refresh token: connect again');
    return storedToken(await oidc.refreshTokenGrant(this.#config, token.refresh_token));
  }

  /** Calls the provider's userinfo endpoint with the token, as an app would call any API of the provider. */
  async fetchUserInfo(token: OAuthToken): Promise<{ status: number; body: unknown }> {
    const endpoint = this.#config.serverMetadata().userinfo_endpoint;
    if (!endpoint) throw new Error('The provider has no userinfo endpoint');
    try {
      const response = await oidc.fetchProtectedResource(this.#config, String(token.access_token), new URL(endpoint), 'GET');
      const text = await response.text();
      return { status: response.status, body: parseJson(text) };
    } catch (error) {
      // A refused token (expired, revoked) comes back as a challenge; show the provider's reason, not a crash.
      if (!(error instanceof oidc.WWWAuthenticateChallengeError)) throw error;
      const { error: code, error_description: description } = error.cause[0]?.parameters ?? {};
      return { status: error.status, body: { error: code, error_description: description } };
    }
  }

  /** Tells the provider the token is no longer wanted; revoking the refresh token ends its whole grant. */
  async revoke(token: OAuthToken): Promise<void> {
    await oidc.tokenRevocation(this.#config, String(token.refresh_token ?? token.access_token));
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/**
 * The token response's fields the app keeps. The storage adds `expires_at`
 * from `expires_in` as it writes, as Flask-Dance stores it. The ID token is
 * left out: it proved who signed in at the provider, and is not needed afterwards.
 */
function storedToken(response: oidc.TokenEndpointResponse): OAuthToken {
  const token: OAuthToken = { access_token: response.access_token, token_type: response.token_type };
  if (response.expires_in !== undefined) token.expires_in = response.expires_in;
  if (response.refresh_token !== undefined) token.refresh_token = response.refresh_token;
  if (response.scope !== undefined) token.scope = response.scope;
  return token;
}

/** Whether `getValid` failed because the provider refused the refresh with `invalid_grant`: the grant is gone for good. */
export function grantRefused(error: TokenRefreshError): boolean {
  return error.cause instanceof oidc.ResponseBodyError && error.cause.error === 'invalid_grant';
}
