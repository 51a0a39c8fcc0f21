import { html } from '../html';
import { page } from '../layout';

/** Plain words for the scopes the demo asks for, shown on the consent page. */
const SCOPE_WORDING: Record<string, string> = {
  openid: 'Know which Demo ID account is yours',
  profile: 'See your name',
  email: 'See your email address',
  offline_access: 'Stay connected while you are away (a refresh token)',
};

/** The provider's sign-in form. Demo ID has no passwords: any name is an account. */
export function loginPage(options: { uid: string; clientName: string; loginHint: string; error?: string }): string {
  return page({
    site: 'provider',
    title: 'Sign in',
    body: html`
<div class="card narrow">
  <h1>Sign in to Demo ID</h1>
  <p class="lead">to continue to <strong>${options.clientName}</strong></p>
  ${options.error ? html`<div class="notice error">${options.error}</div>` : ''}
  <form method="post" action="/interaction/${options.uid}/login">
    <label for="name">Demo ID account</label>
    <input id="name" name="name" type="text" value="${options.loginHint}" autocomplete="username" maxlength="100" required autofocus>
    <p class="muted">This is a local test provider: there are no passwords, any name is an account.</p>
    <button type="submit">Sign in</button>
  </form>
</div>`,
  });
}

/** Asks the signed-in account whether the app may have what it asked for. */
export function consentPage(options: { uid: string; clientName: string; accountId: string; scopes: string[] }): string {
  return page({
    site: 'provider',
    title: 'Allow access',
    who: html`Signed in as <strong>${options.accountId}</strong>`,
    body: html`
<div class="card narrow">
  <h1>Allow access?</h1>
  <p class="lead"><strong>${options.clientName}</strong> would like to:</p>
  <ul class="scopes">${options.scopes.map((scope) => html`<li>${SCOPE_WORDING[scope] ?? scope} <span class="muted">(<code>${scope}</code>)</span></li>`)}</ul>
  <div class="row">
    <form class="inline" method="post" action="/interaction/${options.uid}/confirm"><button type="submit">Allow</button></form>
    <form class="inline" method="post" action="/interaction/${options.uid}/abort"><button class="secondary" type="submit">Cancel</button></form>
  </div>
</div>`,
  });
}

/** What the provider shows when a request to it fails (an expired sign-in, a bad parameter). */
export function providerErrorPage(error: string, description: string | undefined): string {
  return page({
    site: 'provider',
    title: 'Error',
    body: html`
<div class="card narrow">
  <h1>Something went wrong</h1>
  <div class="notice error"><code>${error}</code>${description ? html` · ${description}` : ''}</div>
  <p class="muted">Go back to the app and start again.</p>
</div>`,
  });
}
