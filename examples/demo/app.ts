import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import express from 'express';
import session from 'express-session';
import { AuthorizationResponseError, ResponseBodyError } from 'openid-client';
import type { Repository } from 'typeorm';
import { requestContext, TokenRefreshError, UserRequiredError, type OAuthToken } from '../../src';
import type { User } from '../entities/user.entity';
import { connectionsPage, errorPage, signInPage, type ApiResult, type Connection, type Notice, type StorageInfo } from './app-pages';
import { explain } from './explain';
import { grantRefused, type OAuthClient, type PendingAuthorization } from './oauth-client';
import { renewer } from './renewal';
import { PROVIDER, type SessionUser, type TokenStore } from './token-store';

declare module 'express-session' {
  interface SessionData {
    user: SessionUser;
    pending: PendingAuthorization;
    notice: Notice;
    apiResult: ApiResult;
  }
}

/** What the routes need, built once at start. */
export interface AppDependencies {
  /** The app's own address, to rebuild the full callback URL the provider redirected to. */
  baseUrl: URL;
  users: Repository<User>;
  tokens: TokenStore;
  oauth: OAuthClient;
  /** How tokens are renewed, for the page; null where they are not (SessionStorage). */
  renewal: StorageInfo['renewal'];
}

/**
 * The demo's web app. Note what the routes do not do: pass a user to the
 * token storage. The request context middleware makes each request's user
 * the storage's `currentUser`.
 */
export function createApp({ baseUrl, users, tokens, oauth, renewal }: AppDependencies): express.Express {
  const { storage } = tokens;
  const storageInfo: StorageInfo = { kind: tokens.kind, description: tokens.description, renewal };
  const app = express();
  app.disable('x-powered-by');
  app.use(express.urlencoded({ extended: false, limit: '10kb' }));
  app.use(
    session({
      name: 'demo.sid',
      // Sessions live in memory, so a secret that changes at each start loses nothing more.
      secret: randomBytes(32).toString('hex'),
      resave: false,
      saveUninitialized: false,
      cookie: { httpOnly: true, sameSite: 'lax' },
    }),
  );
  app.use(requestContext({ user: (req: express.Request) => req.session.user }));

  const requireUser: express.RequestHandler = (req, res, next) => {
    if (req.session.user) next();
    else res.redirect(303, '/');
  };
  const notify = (req: express.Request, kind: Notice['kind'], text: string) => {
    req.session.notice = { kind, text };
  };

  app.get('/', async (req, res) => {
    const { user, notice, apiResult } = req.session;
    delete req.session.notice;
    delete req.session.apiResult;
    if (!user) {
      res.type('html').send(signInPage({ storage: storageInfo, notice }));
      return;
    }
    const token = await storage.get(PROVIDER);
    const connection = token && describeToken(token, await tokens.storedAt(user));
    res.type('html').send(connectionsPage({ user, storage: storageInfo, connection, notice, apiResult }));
  });

  app.post('/login', async (req, res) => {
    const name = String(req.body?.name ?? '').trim();
    if (name.length === 0 || name.length > 100) {
      notify(req, 'error', 'Type a name of 1 to 100 characters.');
      res.redirect(303, '/');
      return;
    }
    await users.upsert({ name }, { conflictPaths: ['name'] });
    const user = await users.findOneByOrFail({ name });
    // A new session id at sign-in, so a session id planted before it is worth nothing.
    await promisify(req.session.regenerate.bind(req.session))();
    req.session.user = { id: user.id, name: user.name };
    res.redirect(303, '/');
  });

  app.post('/logout', async (req, res) => {
    await promisify(req.session.destroy.bind(req.session))();
    res.clearCookie('demo.sid');
    res.redirect(303, '/');
  });

  app.post('/connect', requireUser, async (req, res) => {
    const { url, pending } = await oauth.startAuthorization(req.session.user!.name);
    req.session.pending = pending;
    res.redirect(303, url.href);
  });

  app.get('/connect/callback', requireUser, async (req, res) => {
    const pending = req.session.pending;
    delete req.session.pending;
    if (!pending) {
      notify(req, 'error', 'That sign-in at Demo ID was already used or has expired. Connect again.');
      res.redirect(303, '/');
      return;
    }
    let token: OAuthToken;
    try {
      token = await oauth.finishAuthorization(new URL(req.originalUrl, baseUrl), pending);
    } catch (error) {
      if (!(error instanceof AuthorizationResponseError || error instanceof ResponseBodyError)) throw error;
      notify(req, 'error', `Demo ID did not connect: ${error.error_description ?? error.error}.`);
      res.redirect(303, '/');
      return;
    }
    await storage.set(PROVIDER, token);
    notify(req, 'ok', 'Connected. The token is stored for you alone.');
    res.redirect(303, '/');
  });

  /**
   * Calls the API with a token that `getValid` renewed first if it was about
   * to expire. A renewal that failed becomes a notice: a refused grant has
   * been deleted by the storage (`onInvalidGrant: 'delete'`), so the page
   * shows "not connected"; any other failure kept the token.
   */
  const callUserInfo = async (user: SessionUser): Promise<{ apiResult?: ApiResult; notice?: Notice }> => {
    let token: OAuthToken | null;
    try {
      token = await tokens.validToken(renewer(oauth, user.id, 'request'));
    } catch (error) {
      if (!(error instanceof TokenRefreshError)) throw error;
      const text = grantRefused(error)
        ? 'Demo ID no longer accepts this connection (access was revoked there, or has run out), ' +
          'so its token was deleted here. Connect again to use Demo ID.'
        : `Could not renew the Demo ID token (${explain(error.cause)}). The stored token was kept: try again in a moment.`;
      return { notice: { kind: 'error', text } };
    }
    if (!token) return { notice: { kind: 'error', text: 'Connect Demo ID first.' } };
    const { status, body } = await oauth.fetchUserInfo(token);
    return { apiResult: { status, body, at: new Date().toISOString() } };
  };

  app.post('/call-api', requireUser, async (req, res) => {
    const outcome = await callUserInfo(req.session.user!);
    // A page that calls with fetch() asking for JSON gets the outcome itself rather than a redirect to the page.
    if (req.accepts(['html', 'json']) === 'json') {
      res.json(outcome);
      return;
    }
    if (outcome.notice) req.session.notice = outcome.notice;
    if (outcome.apiResult) req.session.apiResult = outcome.apiResult;
    res.redirect(303, '/');
  });

  app.post('/disconnect', requireUser, async (req, res) => {
    const token = await storage.get(PROVIDER);
    if (token) {
      // Revoking is a courtesy to the provider; the token is deleted here whatever it answers.
      await oauth.revoke(token).catch((error: unknown) => console.warn(`Revoking at Demo ID failed: ${explain(error)}`));
      await storage.delete(PROVIDER);
    }
    notify(req, 'ok', 'Disconnected: the token was revoked at Demo ID and deleted here.');
    res.redirect(303, '/');
  });

  app.use((error: unknown, req: express.Request, res: express.Response, _next: express.NextFunction) => {
    if (error instanceof UserRequiredError) {
      // The storage found no signed-in user for this request: tokens always belong to someone.
      res.redirect(303, '/');
      return;
    }
    console.error(`${req.method} ${req.path}: ${explain(error)}`);
    res.status(500).type('html').send(errorPage(explain(error)));
  });
  return app;
}

/** The metadata the page shows about a token; the token's values stay here. */
function describeToken(token: OAuthToken, storedAt: Connection['storedAt']): Connection {
  return {
    scopes: typeof token.scope === 'string' ? token.scope.split(' ').filter(Boolean) : [],
    expiresAt: typeof token.expires_at === 'number' ? new Date(token.expires_at * 1000) : null,
    hasRefreshToken: typeof token.refresh_token === 'string',
    storedAt,
  };
}
