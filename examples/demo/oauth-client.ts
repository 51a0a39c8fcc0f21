import * as oidc from 'openid-client';
import type { OAuthToken } from '../../src';

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
   * tokens. Returns what the app stores: the token response's fields plus
   * `expires_at`, as Flask-Dance stores it. The ID token is left out: it
   * proved who signed in at the provider, and is not needed afterwards.
   */
  async finishAuthorization(callbackUrl: URL, pending: PendingAuthorization): Promise<OAuthToken> {
    const response = await oidc.authorizationCodeGrant(this.#config, callbackUrl, {
      expectedState: pending.state,
      pkceCodeVerifier: pending.codeVerifier,
    });
    const token: OAuthToken = { access_token: response.access_token, token_type: response.token_type };
    if (response.expires_in !== undefined) {
      token.expires_in = response.expires_in;
      token.expires_at = Math.floor(Date.now() / 1000) + response.expires_in;
    }
    if (response.refresh_token !== undefined) token.refresh_token = response.refresh_token;
    if (response.scope !== undefined) token.scope = response.scope;
    return token;
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
