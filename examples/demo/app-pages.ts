import { html, type Html } from './html';
import { page } from './layout';
import type { TokenStorageKind } from './config';
import type { SessionUser, StoredAt } from './token-store';

/** A one-time message for the next page, kept in the session across a redirect. */
export interface Notice {
  kind: 'ok' | 'error';
  text: string;
}

/** The answer of the last API call, shown once. */
export interface ApiResult {
  status: number;
  body: unknown;
  at: string;
}

/** What the page may know about a stored token: never the token's values themselves. */
export interface Connection {
  scopes: string[];
  expiresAt: Date | null;
  hasRefreshToken: boolean;
  storedAt: StoredAt | null;
}

/** Where tokens are kept, and how they are renewed, as the page explains it. */
export interface StorageInfo {
  kind: TokenStorageKind;
  description: string;
  /** `getValid`'s leeway and the background job's interval (0: no job); null where tokens are never renewed. */
  renewal: { leewaySeconds: number; jobIntervalSeconds: number } | null;
}

const relative = new Intl.RelativeTimeFormat('en', { numeric: 'auto' });

/** "in 59 minutes" / "3 minutes ago", with the exact UTC time next to it. */
function when(date: Date, now = Date.now()): Html {
  const seconds = Math.round((date.getTime() - now) / 1000);
  const [value, unit] =
    Math.abs(seconds) < 60 ? [seconds, 'second'] as const
      : Math.abs(seconds) < 3600 ? [Math.round(seconds / 60), 'minute'] as const
        : Math.abs(seconds) < 86400 ? [Math.round(seconds / 3600), 'hour'] as const
          : [Math.round(seconds / 86400), 'day'] as const;
  const exact = `${date.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
  return html`${relative.format(value, unit)} <span class="muted">(${exact})</span>`;
}

function footer(storage: StorageInfo): Html {
  return html`Tokens: ${storage.description}.`;
}

/** The first page: pick a local user. */
export function signInPage(options: { storage: StorageInfo; notice?: Notice }): string {
  return page({
    site: 'app',
    title: 'Sign in',
    body: html`
<h1>Keep your users' OAuth tokens in your own database</h1>
<p class="lead">Sign in as a local user, connect a Demo ID account, and watch the app keep that user's token
with <code>typeorm-oauth-storage</code>.</p>
${noticeBlock(options.notice)}
<div class="card narrow">
  <h2>Sign in to the demo</h2>
  <form method="post" action="/login">
    <label for="name">Your name</label>
    <input id="name" name="name" type="text" maxlength="100" placeholder="alice" required autofocus>
    <button type="submit">Sign in</button>
  </form>
  <div class="row" style="margin-top:14px">
    <span class="muted">or sign in as</span>
    ${['alice', 'bob'].map((name) => html`<form class="inline" method="post" action="/login">
      <input type="hidden" name="name" value="${name}"><button class="secondary" type="submit">${name}</button></form>`)}
  </div>
  <p class="muted" style="margin:14px 0 0">No password: each name is a row in the <code>User</code> table, created on first sign-in.</p>
</div>`,
    footer: footer(options.storage),
  });
}

/** The signed-in user's page: their connection to Demo ID, and what the app can do with it. */
export function connectionsPage(options: {
  user: SessionUser;
  storage: StorageInfo;
  connection: Connection | null;
  notice?: Notice;
  apiResult?: ApiResult;
}): string {
  const { user, storage, connection } = options;
  return page({
    site: 'app',
    title: 'Connections',
    who: html`Signed in as <strong>${user.name}</strong>
<form class="inline" method="post" action="/logout"><button class="secondary" type="submit">Sign out</button></form>`,
    body: html`
<h1>Connections</h1>
<p class="lead">Tokens below belong to <strong>${user.name}</strong> (user #${user.id}) and to nobody else.</p>
${noticeBlock(options.notice)}
${storage.kind === 'session' ? sessionWarning() : ''}
<div class="card" id="demo-id">
  <div class="row spread">
    <h2 style="margin:0">Demo ID</h2>
    ${connection ? html`<span class="badge on">Connected</span>` : html`<span class="badge off">Not connected</span>`}
  </div>
  ${connection ? connectedBlock(connection, storage) : notConnectedBlock()}
  ${options.apiResult ? apiResultBlock(options.apiResult) : ''}
</div>
${howItWorks(storage)}`,
    footer: footer(storage),
  });
}

function connectedBlock(connection: Connection, storage: StorageInfo): Html {
  const expiry = connection.expiresAt
    ? connection.expiresAt.getTime() <= Date.now()
      ? html`<strong>expired</strong> ${when(connection.expiresAt)}`
      : when(connection.expiresAt)
    : 'not said by the provider';
  const { storedAt } = connection;
  return html`
<table class="meta">
  <tr><th>Scopes</th><td><ul class="chips">${connection.scopes.map((scope) => html`<li>${scope}</li>`)}</ul></td></tr>
  <tr><th>Access token expires</th><td>${expiry}</td></tr>
  <tr><th>Refresh token</th><td>${connection.hasRefreshToken ? 'yes, kept with the access token' : 'no'}</td></tr>
  ${storedAt
    ? html`<tr><th>First stored</th><td>${when(storedAt.createdAt)}</td></tr>
  <tr><th>Last renewed</th><td>${storedAt.updatedAt.getTime() > storedAt.createdAt.getTime()
    ? when(storedAt.updatedAt)
    : 'not yet: this is the token from connecting'}</td></tr>`
    : html`<tr><th>Stored</th><td>${storage.kind === 'session' ? 'in your login session' : 'yes'}</td></tr>`}
  <tr><th>Renewal</th><td>${renewalText(storage.renewal)}</td></tr>
</table>
<p class="muted">The token itself never leaves the server: this page shows only facts about it.</p>
<div class="row">
  <form class="inline" method="post" action="/call-api"><button type="submit">Call the userinfo API</button></form>
  <form class="inline" method="post" action="/disconnect"><button class="danger" type="submit">Disconnect</button></form>
</div>`;
}

/** When a token gets renewed, in the words of the settings behind it. */
function renewalText(renewal: StorageInfo['renewal']): Html {
  if (!renewal) return html`never: <code>SessionStorage</code> has no <code>getValid</code>`;
  const { leewaySeconds, jobIntervalSeconds } = renewal;
  const due = leewaySeconds > 0 ? `in its last ${leewaySeconds} s` : 'once it has expired';
  return html`automatic, ${due}: on its next use, ${jobIntervalSeconds > 0
    ? `or by the background job (every ${jobIntervalSeconds} s)`
    : 'as the background job is off'}`;
}

function notConnectedBlock(): Html {
  return html`
<p>Connect your Demo ID account to let this app call Demo ID's API for you. You will sign in at Demo ID and
allow access; the app then stores the token it gets back.</p>
<form method="post" action="/connect"><button type="submit">Connect Demo ID</button></form>`;
}

function apiResultBlock(result: ApiResult): Html {
  const ok = result.status >= 200 && result.status < 300;
  return html`
<div id="api-result" style="margin-top:18px">
  <p style="margin:0"><strong>GET userinfo</strong> → <span class="badge ${ok ? 'on' : 'off'}">${result.status}</span>
  <span class="muted">at ${result.at.slice(11, 19)} UTC, with the stored access token</span></p>
  <pre>${JSON.stringify(result.body, null, 2)}</pre>
</div>`;
}

function sessionWarning(): Html {
  return html`
<div class="notice warn" id="session-warning"><strong>Running on SessionStorage</strong> (<code>TOKEN_STORAGE=session</code>).
The token lives in your login session: sign out, or restart the app, and the connection is gone. With cookie
sessions it would also travel to the browser with every request. Nor is it ever renewed: <code>getValid</code>
needs a table, so once the access token expires, Demo ID answers 401 until you connect again. Fine for a prototype;
in production keep tokens in your database with <code>TypeOrmStorage</code>.</div>`;
}

function howItWorks(storage: StorageInfo): Html {
  const where = storage.kind === 'database'
    ? html`a <code>TypeOrmStorage</code> whose user is <code>currentUser</code>, read from the request being handled`
    : html`a <code>SessionStorage</code> whose session is <code>currentSession</code>, read from the request being handled`;
  const jobInterval = storage.renewal?.jobIntervalSeconds ?? 0;
  return html`
<div class="card">
  <h2>How this works</h2>
  <ol style="margin:0;padding-left:20px">
    <li><strong>Connect</strong> sends you to Demo ID with an authorization-code request (PKCE and state, by <code>openid-client</code>).</li>
    <li>Back here, the code is traded for tokens and saved with <code>storage.set('demo-id', token)</code>:
      ${where}.</li>
    ${storage.renewal
      ? html`<li><strong>Call the userinfo API</strong> reads the token with <code>storage.getValid('demo-id', refresh)</code>: a token
      about to expire is first renewed with <code>openid-client</code>'s <code>refreshTokenGrant</code> and stored, once, however many
      requests ask at the same moment. Demo ID rotates refresh tokens, so a second refresh with the same one would end the grant.</li>
    ${jobInterval > 0
      ? html`<li>A <strong>background job</strong> asks <code>storage.findExpiring()</code> every ${jobInterval} s for tokens about to expire
      and renews each with <code>getValid</code>, so requests seldom wait for Demo ID.</li>`
      : ''}`
      : html`<li><strong>Call the userinfo API</strong> reads the token with <code>storage.get('demo-id')</code> and sends it to Demo ID.</li>`}
    <li><strong>Disconnect</strong> revokes the token at Demo ID and calls <code>storage.delete('demo-id')</code>.</li>
  </ol>
  ${storage.kind === 'database'
    ? html`<p class="muted" style="margin:12px 0 0">One row per provider and user in the <code>o_auth</code> table: sign out, sign in
  as someone else, restart the app; each user keeps their own connection.</p>`
    : ''}
</div>`;
}

function noticeBlock(notice: Notice | undefined): Html | string {
  return notice ? html`<div class="notice ${notice.kind}" role="status">${notice.text}</div>` : '';
}

/** Shown for an error no route expected; says what failed, never what a token holds. */
export function errorPage(message: string): string {
  return page({
    site: 'app',
    title: 'Error',
    body: html`
<div class="card narrow">
  <h1>Something went wrong</h1>
  <div class="notice error">${message}</div>
  <p><a href="/">Back to the demo</a></p>
</div>`,
  });
}
