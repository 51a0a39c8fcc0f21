import { generateKeyPairSync, randomBytes } from 'node:crypto';
import express from 'express';
import { Provider, type InteractionDetails } from 'oidc-provider';
import { consentPage, loginPage, providerErrorPage } from './provider-pages';
import { ProviderStore } from './provider-store';

/** The demo app's registration at the provider. */
export interface RegisteredClient {
  readonly clientId: string;
  readonly clientSecret: string;
  readonly clientName: string;
}

/** A running identity provider: an Express handler to serve, and the client registered with it. */
export interface IdentityProvider {
  readonly handler: express.Express;
  readonly client: RegisteredClient;
  close(): void;
}

const DAY = 24 * 60 * 60;

/**
 * "Demo ID": a real OpenID Connect provider (oidc-provider) with its own
 * sign-in and consent pages. It issues opaque access tokens that live
 * `accessTokenTtl` seconds and, for the `offline_access` scope, refresh tokens.
 * Its state is kept in `storeFile`, so tokens outlive a restart.
 */
export function createIdentityProvider(options: {
  issuer: URL;
  redirectUri: string;
  accessTokenTtl: number;
  storeFile: string;
}): IdentityProvider {
  const store = new ProviderStore(options.storeFile);
  // A fresh secret and signing key each start: the app learns both in-process, and opaque tokens do not depend on them.
  const client: RegisteredClient = {
    clientId: 'token-storage-demo',
    clientSecret: randomBytes(24).toString('base64url'),
    clientName: 'Token storage demo',
  };
  const signingKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });

  const provider = new Provider(options.issuer.href.replace(/\/$/, ''), {
    adapter: store.adapter,
    clients: [
      {
        client_id: client.clientId,
        client_secret: client.clientSecret,
        client_name: client.clientName,
        redirect_uris: [options.redirectUri],
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
      },
    ],
    scopes: ['openid', 'profile', 'email', 'offline_access'],
    claims: { openid: ['sub'], profile: ['name', 'preferred_username'], email: ['email', 'email_verified'] },
    // Any name is an account; the subject is the name typed on the sign-in page.
    findAccount: (_ctx, id) => ({
      accountId: id,
      claims: () => ({
        sub: id,
        name: id,
        preferred_username: id,
        email: `${id.toLowerCase().replace(/[^a-z0-9]+/g, '.').replace(/^\.|\.$/g, '') || 'user'}@demo-id.test`,
        email_verified: false,
      }),
    }),
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    features: { devInteractions: { enabled: false }, revocation: { enabled: true } },
    pkce: { required: () => true },
    // Every refresh hands out a new refresh token and retires the old one, and using a retired one again ends the
    // whole grant, as at providers with refresh-token rotation. A client that refreshes twice for one expiry
    // loses the user's connection: what getValid's once-per-expiry refresh prevents.
    rotateRefreshToken: true,
    ttl: {
      AccessToken: options.accessTokenTtl,
      AuthorizationCode: 60,
      IdToken: 60 * 60,
      Interaction: 10 * 60,
      Session: DAY,
      Grant: 30 * DAY,
      RefreshToken: 30 * DAY,
    },
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    jwks: { keys: [{ ...signingKey, use: 'sig', alg: 'RS256' }] },
    renderError: (ctx, out) => {
      ctx.type = 'html';
      ctx.body = providerErrorPage(out.error ?? 'server_error', out.error_description);
    },
  });
  provider.on('server_error', (_ctx, error) => console.error(`Demo ID: ${error.message}`));
  // One line per refresh served or refused, numbered: the log shows each renewal reached the provider once.
  let refreshes = 0;
  provider.on('grant.success', (ctx) => {
    if (ctx.oidc.params?.grant_type !== 'refresh_token') return;
    refreshes += 1;
    console.log(`Demo ID: refresh #${refreshes}: new tokens for account ${ctx.oidc.entities.Account?.accountId ?? '?'}`);
  });
  provider.on('grant.error', (ctx, error) => {
    if (ctx.oidc?.params?.grant_type !== 'refresh_token') return;
    console.log(`Demo ID: refused a refresh: ${error.error ?? error.name} (${error.error_description ?? error.message})`);
  });

  const app = express();
  app.disable('x-powered-by');
  app.use('/interaction', interactionRoutes(provider, client));
  app.use(provider.callback());
  return { handler: app, client, close: () => store.close() };
}

/** The sign-in and consent steps oidc-provider hands over to the host app. */
function interactionRoutes(provider: Provider, client: RegisteredClient): express.Router {
  const router = express.Router();
  router.use(express.urlencoded({ extended: false, limit: '10kb' }));

  router.get('/:uid', async (req, res) => {
    const interaction = await provider.interactionDetails(req, res);
    if (interaction.prompt.name === 'login') {
      res.type('html').send(loginPage({ uid: interaction.uid, clientName: client.clientName, loginHint: String(interaction.params.login_hint ?? '') }));
    } else {
      res.type('html').send(consentPage({
        uid: interaction.uid,
        clientName: client.clientName,
        accountId: interaction.session?.accountId ?? '',
        scopes: String(interaction.params.scope ?? '').split(' ').filter(Boolean),
      }));
    }
  });

  router.post('/:uid/login', async (req, res) => {
    const interaction = await provider.interactionDetails(req, res);
    const name = String(req.body?.name ?? '').trim();
    if (name.length === 0 || name.length > 100) {
      res.status(400).type('html').send(loginPage({
        uid: interaction.uid,
        clientName: client.clientName,
        loginHint: name.slice(0, 100),
        error: 'Type a name of 1 to 100 characters.',
      }));
      return;
    }
    await provider.interactionFinished(req, res, { login: { accountId: name } }, { mergeWithLastSubmission: false });
  });

  router.post('/:uid/confirm', async (req, res) => {
    const interaction = await provider.interactionDetails(req, res);
    const grantId = await grantRequested(provider, interaction);
    await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
  });

  router.post('/:uid/abort', async (req, res) => {
    await provider.interactionFinished(req, res, { error: 'access_denied', error_description: 'The user did not allow access' });
  });

  router.use((error: Error & { error?: string; error_description?: string }, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
    res.status(400).type('html').send(providerErrorPage(error.error ?? 'server_error', error.error_description ?? error.message));
  });
  return router;
}

/** Adds what the consent prompt found missing to the account's grant for the client, and saves it. */
async function grantRequested(provider: Provider, interaction: InteractionDetails): Promise<string> {
  const accountId = interaction.session?.accountId;
  if (!accountId) throw Object.assign(new Error('Sign in first'), { error: 'login_required' });
  const existing = interaction.grantId ? await provider.Grant.find(interaction.grantId) : undefined;
  const grant = existing ?? new provider.Grant({ accountId, clientId: String(interaction.params.client_id) });
  const details = interaction.prompt.details as {
    missingOIDCScope?: string[];
    missingOIDCClaims?: string[];
    missingResourceScopes?: Record<string, string[]>;
  };
  if (details.missingOIDCScope) grant.addOIDCScope(details.missingOIDCScope.join(' '));
  if (details.missingOIDCClaims) grant.addOIDCClaims(details.missingOIDCClaims);
  for (const [resource, scopes] of Object.entries(details.missingResourceScopes ?? {})) {
    grant.addResourceScope(resource, scopes.join(' '));
  }
  return grant.save();
}
