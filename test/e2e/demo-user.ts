import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import type { DemoProcess } from './demo-process';

/** Where screenshots of the main pages go (git-ignored). */
export const ARTIFACTS = join(__dirname, '..', 'artifacts');

/** What the app answers a userinfo call asked for as JSON: the API's answer, or why it made no call. */
export interface ApiOutcome {
  apiResult?: { status: number; body: Record<string, unknown> };
  notice?: { kind: string; text: string };
}

/** A person using the demo in their own browser, doing what the pages offer, as they would with a mouse. */
export class DemoUser {
  constructor(
    readonly name: string,
    readonly page: Page,
    public demo: DemoProcess,
  ) {}

  /** Signs in with the name form, and checks the app greets this user. */
  async signIn(): Promise<void> {
    await this.page.goto(this.demo.url.href);
    await this.page.getByLabel('Your name').fill(this.name);
    await this.page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await this.page.getByRole('heading', { name: 'Connections' }).waitFor();
    expect(await this.page.locator('header .who strong').textContent()).toBe(this.name);
  }

  /**
   * Runs Connect through the provider's own sign-in and consent pages and back.
   * `shoot` names screenshots of the provider's pages when given.
   */
  async connect(shoot?: string): Promise<void> {
    await this.#toConsent(shoot);
    await this.page.getByRole('button', { name: 'Allow' }).click();
    await this.#backAtApp();
    expect(await this.notice()).toContain('Connected');
    expect(await this.status()).toBe('Connected');
  }

  /** Starts Connect, then says no on the provider's consent page. */
  async refuseConnect(): Promise<void> {
    await this.#toConsent();
    await this.page.getByRole('button', { name: 'Cancel' }).click();
    await this.#backAtApp();
    expect(await this.notice()).toBe('Demo ID did not connect: The user did not allow access.');
    expect(await this.status()).toBe('Not connected');
  }

  async #toConsent(shoot?: string): Promise<void> {
    await this.page.getByRole('button', { name: 'Connect Demo ID' }).click();
    await this.page.waitForURL((url) => url.origin === this.demo.providerUrl.origin);
    const account = this.page.getByLabel('Demo ID account');
    expect(await account.inputValue()).toBe(this.name); // the app's login_hint
    if (shoot) await this.screenshot(`${shoot}-provider-sign-in`);
    await this.page.getByRole('button', { name: 'Sign in' }).click();

    await this.page.getByRole('heading', { name: 'Allow access?' }).waitFor();
    expect(await this.page.locator('header .who strong').textContent()).toBe(this.name);
    expect(await this.page.locator('ul.scopes code').allTextContents()).toEqual(['openid', 'profile', 'email', 'offline_access']);
    if (shoot) await this.screenshot(`${shoot}-provider-consent`);
  }

  async #backAtApp(): Promise<void> {
    await this.page.waitForURL((url) => url.origin === this.demo.url.origin && url.pathname === '/');
  }

  /** The badge on the Demo ID card: `Connected` or `Not connected`. */
  async status(): Promise<string> {
    return (await this.page.locator('#demo-id .badge').first().textContent())!.trim();
  }

  async notice(): Promise<string | null> {
    const notice = this.page.locator('.notice[role=status]');
    return (await notice.count()) ? notice.textContent() : null;
  }

  /** The token metadata table, as label → text. */
  async metadata(): Promise<Record<string, string>> {
    const rows = await this.page.locator('table.meta tr').evaluateAll((trs) =>
      trs.map((tr) => [tr.querySelector('th')!.textContent!.trim(), tr.querySelector('td')!.textContent!.replace(/\s+/g, ' ').trim()]),
    );
    return Object.fromEntries(rows);
  }

  /** Presses "Call the userinfo API" and returns the status and JSON the page shows. */
  async callApi(): Promise<{ status: number; body: Record<string, unknown> }> {
    await this.page.getByRole('button', { name: 'Call the userinfo API' }).click();
    const result = this.page.locator('#api-result');
    await result.waitFor();
    return {
      status: Number(await result.locator('.badge').textContent()),
      body: JSON.parse((await result.locator('pre').textContent())!),
    };
  }

  /** Presses "Call the userinfo API" when the app cannot call it, and returns the notice the page shows instead. */
  async callApiRefused(): Promise<string> {
    await this.page.getByRole('button', { name: 'Call the userinfo API' }).click();
    await this.page.locator('.notice[role=status]').waitFor();
    return (await this.notice())!;
  }

  /**
   * Makes `count` userinfo calls at once from this user's page, as a page
   * script would, asking for JSON; returns each call's outcome.
   */
  async callApiAtOnce(count: number): Promise<ApiOutcome[]> {
    return this.page.evaluate(
      (n) =>
        Promise.all(
          Array.from({ length: n }, async () => {
            const response = await fetch('/call-api', { method: 'POST', headers: { accept: 'application/json' } });
            return (await response.json()) as ApiOutcome;
          }),
        ),
      count,
    );
  }

  async disconnect(): Promise<void> {
    await this.page.getByRole('button', { name: 'Disconnect' }).click();
    await this.page.getByRole('button', { name: 'Connect Demo ID' }).waitFor();
    expect(await this.notice()).toContain('Disconnected');
    expect(await this.status()).toBe('Not connected');
  }

  async reload(): Promise<void> {
    await this.page.goto(this.demo.url.href);
  }

  async screenshot(name: string): Promise<void> {
    mkdirSync(ARTIFACTS, { recursive: true });
    await this.page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
  }
}
