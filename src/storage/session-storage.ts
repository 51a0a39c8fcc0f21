import { OAuthStorageError } from '../errors';
import { resolveValue } from '../internal/resolve';
import type { OAuthToken, Resolvable } from '../types';
import { BaseStorage } from './base-storage';

/** A session object as express-session (`req.session`) or cookie-session give it. */
export type SessionLike = Record<string, unknown>;

/** Options of {@link SessionStorage}. */
export interface SessionStorageOptions {
  /**
   * The session object, or a function returning the current request's session
   * (for example `currentSession` from the request context helper). A function
   * is needed when one storage serves many requests.
   */
  session: Resolvable<SessionLike | null | undefined>;
  /**
   * Session key for a provider's token; `{provider}` is replaced by the
   * provider's name. Default `{provider}_oauth_token`, as in Flask-Dance, so
   * tokens of several providers live side by side in one session.
   */
  key?: string;
}

/**
 * Keeps each token in the user's session: no setup, but the token is gone when
 * the session ends, and with cookie sessions it travels to the browser. Fine
 * for demos and prototypes; use {@link TypeOrmStorage} in production.
 */
export class SessionStorage extends BaseStorage {
  readonly #session: SessionStorageOptions['session'];
  readonly #key: string;

  constructor(options: SessionStorageOptions) {
    super();
    const key = options?.key ?? '{provider}_oauth_token';
    if (typeof key !== 'string' || !key.includes('{provider}')) {
      throw new OAuthStorageError('SessionStorage key must be a string containing {provider}');
    }
    if (options.session === undefined || options.session === null) {
      throw new OAuthStorageError('SessionStorage needs a session object or a function returning the current one');
    }
    this.#session = options.session;
    this.#key = key;
  }

  async get(provider: string): Promise<OAuthToken | null> {
    const [session, key] = await this.#locate(provider);
    const stored = session[key];
    return stored === undefined || stored === null ? null : JSON.parse(JSON.stringify(stored));
  }

  async set(provider: string, token: OAuthToken): Promise<void> {
    const [session, key] = await this.#locate(provider);
    session[key] = JSON.parse(this.serialize(token));
  }

  async delete(provider: string): Promise<void> {
    const [session, key] = await this.#locate(provider);
    delete session[key];
  }

  async #locate(provider: string): Promise<[SessionLike, string]> {
    this.assertProvider(provider);
    const session = await resolveValue(this.#session);
    if (typeof session !== 'object' || session === null) {
      throw new OAuthStorageError('SessionStorage found no session: is the session middleware mounted before this route?');
    }
    // split/join, not replaceAll: a provider may contain `$'` or `$&`, which replaceAll would expand.
    return [session, this.#key.split('{provider}').join(provider)];
  }
}
