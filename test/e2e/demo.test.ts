import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { DataSource, type DataSourceOptions } from 'typeorm';
import { TypeOrmStorage, type OAuthToken } from '../../src';
import { OAuth } from '../../examples/entities/oauth.entity';
import { User } from '../../examples/entities/user.entity';
import { adminQuery } from '../support/databases';
import { DATABASE_URL, describeWith, postgresUp, REDIS_URL, redisUp } from '../support/services';
import { browserTestsRun, openBrowser } from './browser';
import { startDemoProcess, type DemoProcess } from './demo-process';
import { DemoUser } from './demo-user';

// Each test starts the app (twice) and drives real browsers through a real OAuth flow.
jest.setTimeout(180_000);

const runs = browserTestsRun();

describeWith(runs)('the demo app in Chromium', () => {
  /** Everything a test started, stopped in reverse order even when the test fails. */
  const cleanups: Array<() => unknown> = [];
  afterEach(async () => {
    const errors: unknown[] = [];
    while (cleanups.length) {
      try {
        await cleanups.pop()!();
      } catch (error) {
        errors.push(error);
      }
    }
    if (errors.length) throw errors[0];
  });

  const tempDir = () => {
    const dir = mkdtempSync(join(tmpdir(), 'demo-e2e-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    return dir;
  };
  const start = async (env: Record<string, string>) => {
    const demo = await startDemoProcess(env);
    cleanups.push(() => demo.stop());
    return demo;
  };
  /** Stops the demo and starts it again on the same ports and data, as after a deploy. */
  const restart = async (demo: DemoProcess, env: Record<string, string>, users: DemoUser[]) => {
    await demo.stop();
    const next = await start({ ...env, PORT: demo.url.port, PROVIDER_PORT: demo.providerUrl.port });
    for (const user of users) user.demo = next;
    return next;
  };
  const userOf = async (name: string, demo: DemoProcess) => {
    const browser = await openBrowser();
    cleanups.push(() => browser.close());
    return new DemoUser(name, browser.page, demo);
  };

  it('lets two users connect, call the API and disconnect, each seeing only their own token; a restart keeps connections', async () => {
    const dataDir = tempDir();
    const env = { DATA_DIR: dataDir, PORT: '0', PROVIDER_PORT: '0', ACCESS_TOKEN_TTL: '600' };
    const sqlite: DataSourceOptions = { type: 'better-sqlite3', database: join(dataDir, 'app.sqlite') };
    let demo = await start(env);
    const alice = await userOf('alice', demo);
    const bob = await userOf('bob', demo);

    await alice.reload();
    await alice.screenshot('demo-1-sign-in');
    await alice.signIn();
    await bob.signIn();
    expect(await alice.status()).toBe('Not connected');
    await alice.screenshot('demo-2-not-connected');

    await alice.connect('demo-3');
    await bob.reload();
    expect(await bob.status()).toBe('Not connected');
    await bob.refuseConnect();
    await bob.connect();

    expect(await alice.page.locator('ul.chips li').allTextContents()).toEqual(['openid', 'profile', 'email', 'offline_access']);
    const metadata = await alice.metadata();
    expect(metadata['Access token expires']).toMatch(/^in (9|10) minutes \(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\)$/);
    expect(metadata['Refresh token']).toMatch(/^yes/);
    expect(metadata['First stored']).toMatch(/UTC\)$/);
    expect(metadata['Last renewed']).toBe('not yet: this is the token from connecting');
    expect(metadata.Renewal).toBe('automatic, in its last 60 s: on its next use, or by the background job (every 15 s)');

    const tokens = await storedTokens(sqlite);
    expect([...tokens.keys()].sort()).toEqual(['alice', 'bob']);
    for (const user of [alice, bob]) {
      const page = await user.page.content();
      for (const token of tokens.values()) {
        expect(page).not.toContain(String(token.access_token));
        expect(page).not.toContain(String(token.refresh_token));
      }
    }

    const aliceCall = await alice.callApi();
    expect(aliceCall.status).toBe(200);
    expect(aliceCall.body).toMatchObject({ sub: 'alice', name: 'alice', email: 'alice@demo-id.test' });
    await alice.screenshot('demo-4-connected');
    const bobCall = await bob.callApi();
    expect(bobCall.body).toMatchObject({ sub: 'bob' });

    await bob.disconnect();
    expect(await userinfoStatus(demo, tokens.get('bob')!)).toBe(401); // revoked at the provider too
    await bob.connect(); // and connecting again after that works
    expect((await bob.callApi()).body).toMatchObject({ sub: 'bob' });
    await bob.disconnect();
    await alice.reload();
    expect(await alice.status()).toBe('Connected');
    expect([...(await storedTokens(sqlite)).keys()]).toEqual(['alice']);

    demo = await restart(demo, env, [alice, bob]);
    await alice.signIn(); // login sessions live in memory; the token lives in the database
    expect(await alice.status()).toBe('Connected');
    expect(exactTime((await alice.metadata())['First stored'])).toBe(exactTime(metadata['First stored']));
    expect((await alice.callApi()).body).toMatchObject({ sub: 'alice' });
    await bob.signIn();
    expect(await bob.status()).toBe('Not connected');

    await alice.disconnect();
    expect((await storedTokens(sqlite)).size).toBe(0);
  });

  it('on SessionStorage (TOKEN_STORAGE=session) says why that is not for production, and loses the token at restart', async () => {
    const dataDir = tempDir();
    const env = { DATA_DIR: dataDir, PORT: '0', PROVIDER_PORT: '0', TOKEN_STORAGE: 'session', ACCESS_TOKEN_TTL: '600' };
    let demo = await start(env);
    // A name full of HTML: every page must print it as text, the provider's pages and the API result included.
    const name = '<b>Zoë</b> & "friends"';
    const zoe = await userOf(name, demo);

    await zoe.signIn();
    expect(await zoe.page.locator('#session-warning').textContent()).toContain('restart the app, and the connection is gone');
    await zoe.connect();
    expect((await zoe.metadata()).Stored).toBe('in your login session');
    expect((await zoe.metadata()).Renewal).toBe('never: SessionStorage has no getValid');
    expect((await zoe.callApi()).body).toMatchObject({ sub: name, name });
    await zoe.screenshot('demo-5-session-storage');
    expect((await storedTokens({ type: 'better-sqlite3', database: join(dataDir, 'app.sqlite') })).size).toBe(0);

    demo = await restart(demo, env, [zoe]);
    await zoe.signIn();
    expect(await zoe.status()).toBe('Not connected');
  });

  it('renews short-lived tokens with getValid: once for many calls at once, ahead of time by the background job; '
    + 'a refused grant shows "not connected"', async () => {
    const dataDir = tempDir();
    const sqlite: DataSourceOptions = { type: 'better-sqlite3', database: join(dataDir, 'app.sqlite') };
    // Access tokens live 6 s and are due in their last 2 s. No background job at first: only requests renew.
    const env = { DATA_DIR: dataDir, PORT: '0', PROVIDER_PORT: '0', ACCESS_TOKEN_TTL: '6', REFRESH_JOB_INTERVAL: '0' };
    let demo = await start(env);
    const alice = await userOf('alice', demo);
    await alice.signIn();
    await alice.connect();
    expect((await alice.metadata())['Last renewed']).toBe('not yet: this is the token from connecting');
    const connected = (await storedTokens(sqlite)).get('alice')!;

    await untilExpired(connected);
    await alice.reload(); // showing the page reads the token with get(): it does not renew it
    expect((await alice.metadata())['Access token expires']).toMatch(/^expired \d+ seconds? ago/);
    // Eight calls at once on the expired token share one refresh, and each calls the API with the new token.
    const outcomes = await alice.callApiAtOnce(8);
    expect(outcomes).toHaveLength(8);
    for (const outcome of outcomes) expect(outcome.apiResult).toMatchObject({ status: 200, body: { sub: 'alice' } });
    expect(linesOf(demo, PROVIDER_REFRESH)).toHaveLength(1);
    expect(linesOf(demo, APP_RENEWAL)).toEqual([expect.stringContaining('(request)')]);
    const renewed = (await storedTokens(sqlite)).get('alice')!;
    expect(renewed.access_token).not.toBe(connected.access_token);
    expect(renewed.refresh_token).not.toBe(connected.refresh_token); // rotated: the first one is spent
    expect(await userinfoStatus(demo, connected)).toBe(401); // the original access token has expired...
    expect(await alice.callApi()).toMatchObject({ status: 200, body: { sub: 'alice' } }); // ...and the app's call still works
    const afterRequest = await alice.metadata();
    expect(afterRequest['Last renewed']).toMatch(/^(now|\d+ seconds? ago) \(/);
    expect(afterRequest['Access token expires']).toMatch(/^in \d seconds? \(/);

    // With a background job every second, the token is renewed while nothing uses it: the page only reads it.
    demo = await restart(demo, { ...env, REFRESH_JOB_INTERVAL: '1' }, [alice]);
    await alice.signIn();
    const lastRenewed = exactTime((await alice.metadata())['Last renewed']);
    const renewedByJob = await until('the background job to renew the token', async () => {
      await alice.reload();
      const metadata = await alice.metadata();
      return exactTime(metadata['Last renewed']) !== lastRenewed ? metadata : undefined;
    });
    expect(renewedByJob['Access token expires']).toMatch(/^in \d seconds? \(/);
    expect(linesOf(demo, APP_RENEWAL)).toContainEqual(expect.stringContaining('(background job)'));
    await alice.screenshot('demo-6-renewed');
    expect(await alice.callApi()).toMatchObject({ status: 200, body: { sub: 'alice' } });
    await demo.stop();
    expect(demo.output()).toContain('Demo stopped.'); // the job's last run finished before the app closed
    // Each renewal reached Demo ID once; a second refresh with a spent refresh token would have been refused.
    expect(linesOf(demo, PROVIDER_REFRESH)).toHaveLength(linesOf(demo, APP_RENEWAL).length);
    expect(linesOf(demo, PROVIDER_REFUSED)).toEqual([]);

    // Demo ID loses its state, grants included, as when alice removes the app there: the next renewal is refused.
    for (const file of ['provider.sqlite', 'provider.sqlite-wal', 'provider.sqlite-shm']) {
      rmSync(join(dataDir, file), { force: true });
    }
    demo = await restart(demo, env, [alice]);
    await alice.signIn();
    expect(await alice.status()).toBe('Connected');
    await untilDue((await storedTokens(sqlite)).get('alice')!, 2);
    expect(await alice.callApiRefused()).toBe(
      'Demo ID no longer accepts this connection (access was revoked there, or has run out), so its token was deleted here. ' +
        'Connect again to use Demo ID.',
    );
    expect(await alice.status()).toBe('Not connected');
    expect((await storedTokens(sqlite)).size).toBe(0);
    expect(linesOf(demo, PROVIDER_REFUSED)).toEqual([expect.stringContaining('invalid_grant')]);
  });

  describeWith(postgresUp && redisUp)('on PostgreSQL with a Redis cache', () => {
    it('keeps the connection in PostgreSQL across a restart', async () => {
      const database = `oauth_demo_e2e_${randomBytes(4).toString('hex')}`;
      await adminQuery(`CREATE DATABASE ${database}`);
      cleanups.push(() => adminQuery(`DROP DATABASE ${database} WITH (FORCE)`));
      const url = new URL(DATABASE_URL);
      url.pathname = `/${database}`;
      const env = { DATA_DIR: tempDir(), PORT: '0', PROVIDER_PORT: '0', DATABASE_URL: url.href, REDIS_URL };
      let demo = await start(env);
      const alice = await userOf('alice', demo);

      await alice.signIn();
      expect(await alice.page.locator('footer').textContent()).toContain('TypeOrmStorage on PostgreSQL (DATABASE_URL), cached in Redis');
      await alice.connect();
      expect((await alice.callApi()).body).toMatchObject({ sub: 'alice' });
      expect([...(await storedTokens({ type: 'postgres', url: url.href })).keys()]).toEqual(['alice']);

      demo = await restart(demo, env, [alice]);
      await alice.signIn();
      expect(await alice.status()).toBe('Connected');
      await alice.disconnect();
      expect((await storedTokens({ type: 'postgres', url: url.href })).size).toBe(0);
    });
  });
});

/** The demo's log lines that match `pattern`. */
function linesOf(demo: DemoProcess, pattern: RegExp): string[] {
  return demo.output().split('\n').filter((line) => pattern.test(line));
}

/** A refresh Demo ID served, a refresh it refused, and a renewal the app stored (logged by the demo, never with a token). */
const PROVIDER_REFRESH = /^Demo ID: refresh #\d+: new tokens for account /;
const PROVIDER_REFUSED = /^Demo ID: refused a refresh: /;
const APP_RENEWAL = /^Renewed user #\d+'s Demo ID token \((request|background job)\)/;

/** The exact UTC time in a page's "3 seconds ago (2026-01-01 10:00:00 UTC)". */
function exactTime(text: string): string | undefined {
  return /\((.*)\)/.exec(text)?.[1];
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Resolves once `token` has expired: past its `expires_at`, and past the provider's expiry, which counts whole seconds too. */
async function untilExpired(token: OAuthToken): Promise<void> {
  await untilDue(token, -1);
}

/** Resolves once `token` expires within `leewaySeconds`, so that getValid renews it. */
async function untilDue(token: OAuthToken, leewaySeconds: number): Promise<void> {
  const wait = (Number(token.expires_at) - leewaySeconds) * 1000 - Date.now();
  if (wait > 0) await sleep(wait);
}

/** Asks `probe` every half second until it answers, for up to 20 s. */
async function until<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`Gave up waiting for ${what}`);
    await sleep(500);
  }
}

/** Each user's stored token, read back through the package as another process would: by user name. */
async function storedTokens(options: DataSourceOptions): Promise<Map<string, OAuthToken>> {
  const dataSource = new DataSource({ ...options, entities: [User, OAuth] } as DataSourceOptions);
  await dataSource.initialize();
  try {
    const storage = new TypeOrmStorage(dataSource, OAuth);
    const tokens = new Map<string, OAuthToken>();
    for (const user of await dataSource.getRepository(User).find()) {
      const token = await storage.get('demo-id', { user });
      if (token) tokens.set(user.name, token);
    }
    return tokens;
  } finally {
    await dataSource.destroy();
  }
}

/** What the provider's userinfo endpoint answers to a token, asked directly rather than through the app. */
async function userinfoStatus(demo: DemoProcess, token: OAuthToken): Promise<number> {
  const discovery = await fetch(new URL('/.well-known/openid-configuration', demo.providerUrl));
  const { userinfo_endpoint: endpoint } = (await discovery.json()) as { userinfo_endpoint: string };
  const response = await fetch(endpoint, { headers: { authorization: `Bearer ${String(token.access_token)}` } });
  return response.status;
}
