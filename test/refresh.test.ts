import { fork } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { OAuthStorageError, TokenRefreshError, TypeOrmStorage, type OAuthToken } from '../src';
import { mapCache } from './support/map-cache';
import { useDatabase } from './support/use-database';
import { databases, postgres, type TestDatabase } from './support/databases';
import { allModels, BotToken, OAuth, User } from './support/models';
import { RefreshProvider, refreshAt } from './support/refresh-provider';
import { DATABASE_URL, describeWith } from './support/services';

const now = () => Math.floor(Date.now() / 1000);
const expired = (extra: Partial<OAuthToken> = {}) => ({ access_token: 'old', refresh_token: 'r1', expires_at: now() - 10, ...extra });


for (const kind of databases) {
  describeWith(kind.up)(`token refresh on ${kind.name}`, () => {
    let db: TestDatabase;
    let alice: User;
    let bob: User;
    let provider: RefreshProvider;
    useDatabase(kind, (state) => ({ db, alice, bob } = state));
    beforeAll(async () => {
      provider = await RefreshProvider.start(100);
    });
    afterAll(async () => {
      await provider?.stop();
    });
    beforeEach(() => {
      provider.requests = 0;
    });

    const storageFor = (user: User, options = {}) => new TypeOrmStorage<User>(db.dataSource, OAuth, { user, ...options });
    const row = (user: User) => db.dataSource.getRepository(OAuth).findOneByOrFail({ userId: user.id });

    it('stores expires_at and an indexed expiresAt column on every write', async () => {
      const before = now();
      await storageFor(alice).set('github', { access_token: 'a', expires_in: 120 });
      const stored = await row(alice);
      expect(stored.token.expires_at).toBeGreaterThanOrEqual(before + 120);
      expect(stored.expiresAt).toBe(stored.token.expires_at);
      await storageFor(alice).set('github', { access_token: 'b' });
      expect((await row(alice)).expiresAt).toBeNull();
    });

    it('returns null without a token and a fresh token as it is, without refreshing', async () => {
      const refresh = jest.fn();
      expect(await storageFor(alice).getValid('github', refresh)).toBeNull();
      await storageFor(alice).set('github', { access_token: 'a', expires_in: 3600 });
      await storageFor(bob).set('github', { access_token: 'no expiry' });
      expect(await storageFor(alice).getValid('github', refresh)).toMatchObject({ access_token: 'a' });
      expect(await storageFor(bob).getValid('github', refresh)).toEqual({ access_token: 'no expiry' });
      expect(refresh).not.toHaveBeenCalled();
    });

    it('refreshes at the leeway boundary and not a second before it', async () => {
      const t = 1_900_000_000;
      const clock = jest.spyOn(Date, 'now').mockReturnValue(t * 1000);
      try {
        const refresh = jest.fn(async () => ({ access_token: 'new', expires_in: 3600 }));
        const storage = storageFor(alice, { refreshLeewaySeconds: 300 });
        await storage.set('github', { access_token: 'old', expires_at: t + 301 });
        expect(await storage.getValid('github', refresh)).toMatchObject({ access_token: 'old' });
        await storage.set('github', { access_token: 'old', expires_at: t + 300 });
        expect(await storage.getValid('github', refresh)).toMatchObject({ access_token: 'new', expires_at: t + 3600 });
        expect(refresh).toHaveBeenCalledTimes(1);
      } finally {
        clock.mockRestore();
      }
    });

    it('runs refresh once for 50 concurrent callers, stores the result and keeps the old refresh_token', async () => {
      await storageFor(alice).set('github', expired());
      // Storages made per request must share the refresh too.
      const tokens = await Promise.all(
        Array.from({ length: 50 }, () => storageFor(alice).getValid('github', refreshAt(provider.url))),
      );
      expect(provider.requests).toBe(1);
      for (const token of tokens) expect(token).toMatchObject({ access_token: 'refreshed-1', refresh_token: 'r1' });
      const stored = await row(alice);
      expect(stored.token).toMatchObject({ access_token: 'refreshed-1', refresh_token: 'r1', expires_in: 3600 });
      expect(stored.expiresAt).toBeGreaterThan(now() + 3000);
    });

    it('keeps users apart: each user\'s expired token is refreshed once, with their own token', async () => {
      await storageFor(alice).set('github', expired({ refresh_token: 'alice-r' }));
      await storageFor(bob).set('github', expired({ refresh_token: 'bob-r' }));
      const seen: string[] = [];
      const refresh = async (token: OAuthToken) => {
        seen.push(token.refresh_token!);
        return { access_token: `for-${token.refresh_token}`, expires_in: 60 * 60 };
      };
      const [a, b] = await Promise.all([storageFor(alice).getValid('github', refresh), storageFor(bob).getValid('github', refresh)]);
      expect(seen.sort()).toEqual(['alice-r', 'bob-r']);
      expect(a).toMatchObject({ access_token: 'for-alice-r' });
      expect(b).toMatchObject({ access_token: 'for-bob-r' });
    });

    it('leaves the token unchanged and rejects with TokenRefreshError when refresh fails', async () => {
      const storage = storageFor(alice);
      await storage.set('github', expired());
      const before = await row(alice);
      const cause = new Error('provider down');
      const error = await storage.getValid('github', async () => Promise.reject(cause)).catch((e) => e);
      expect(error).toBeInstanceOf(TokenRefreshError);
      expect(error).toBeInstanceOf(OAuthStorageError);
      expect(error.cause).toBe(cause);
      expect((await row(alice)).token).toEqual(before.token);

      await expect(storage.getValid('github', async () => 'not a token' as unknown as OAuthToken)).rejects.toBeInstanceOf(
        TokenRefreshError,
      );
      const slow = storageFor(alice, { refreshTimeout: 50 });
      const timedOut = await slow.getValid('github', () => new Promise<OAuthToken>(() => {})).catch((e) => e);
      expect(timedOut).toBeInstanceOf(TokenRefreshError);
      expect(timedOut.cause.message).toMatch(/within 50 ms/);
      expect((await row(alice)).token).toEqual(before.token);
    });

    it('deletes the token on invalid_grant when asked to, and keeps it otherwise', async () => {
      const invalidGrant = Object.assign(new Error('invalid_grant'), { error: 'invalid_grant' });
      await storageFor(alice).set('github', expired());
      await expect(storageFor(alice).getValid('github', async () => Promise.reject(invalidGrant))).rejects.toBeInstanceOf(
        TokenRefreshError,
      );
      expect(await storageFor(alice).get('github')).not.toBeNull();
      const deleting = storageFor(alice, { onInvalidGrant: 'delete', cache: mapCache() });
      expect(await deleting.get('github')).not.toBeNull(); // now cached
      await expect(deleting.getValid('github', async () => Promise.reject(new Error('x', { cause: invalidGrant })))).rejects.toBeInstanceOf(
        TokenRefreshError,
      );
      expect(await deleting.get('github')).toBeNull();
    });

    it('invalidates the cache and encrypts the refreshed token', async () => {
      const cache = mapCache();
      const encryption = { keys: { k: Buffer.alloc(32, 7) }, current: 'k' };
      const storage = storageFor(alice, { cache, encryption });
      await storage.set('github', expired());
      expect(await storage.get('github')).toMatchObject({ access_token: 'old' });
      await storage.getValid('github', refreshAt(provider.url));
      expect(await storage.get('github')).toMatchObject({ access_token: 'refreshed-1' });
      expect(JSON.stringify((await row(alice)).token)).not.toContain('refreshed');
    });

    it('refreshes app-wide tokens of a model without users', async () => {
      const storage = new TypeOrmStorage(db.dataSource, BotToken);
      await storage.set('slack', expired());
      expect(await storage.getValid('slack', refreshAt(provider.url))).toMatchObject({ access_token: 'refreshed-1' });
    });

    describe('findExpiring', () => {
      it('lists tokens expiring within the window, soonest first, with limit and provider filters', async () => {
        const t = now();
        const anyone = new TypeOrmStorage<User>(db.dataSource, OAuth, { userRequired: false });
        await anyone.set('github', { access_token: '1', expires_at: t + 500 }, { user: alice });
        await anyone.set('google', { access_token: '2', expires_at: t - 100 }, { user: alice });
        await anyone.set('github', { access_token: '3', expires_at: t + 50 }, { user: bob });
        await anyone.set('github', { access_token: '4', expires_at: t + 5000 });
        await anyone.set('gitlab', { access_token: '5' }, { user: bob });

        const soon = await anyone.findExpiring(600);
        expect(soon.map((e) => [e.provider, e.userId, e.expiresAt.getTime() / 1000])).toEqual([
          ['google', alice.id, t - 100],
          ['github', bob.id, t + 50],
          ['github', alice.id, t + 500],
        ]);
        expect((await anyone.findExpiring(600, { limit: 2 })).map((e) => e.provider)).toEqual(['google', 'github']);
        expect((await anyone.findExpiring(600, { provider: 'github' })).map((e) => e.userId)).toEqual([bob.id, alice.id]);
        expect((await anyone.findExpiring(6000, { provider: 'github' })).map((e) => e.userId)).toEqual([bob.id, alice.id, null]);
        await expect(anyone.findExpiring(60, { limit: 0 })).rejects.toBeInstanceOf(OAuthStorageError);
        await expect(anyone.findExpiring(NaN)).rejects.toBeInstanceOf(OAuthStorageError);
      });
    });
  });
}

describeWith(postgres.up)('token refresh across processes on PostgreSQL', () => {
  let db: TestDatabase;
  let provider: RefreshProvider;

  beforeAll(async () => {
    db = await postgres.create();
    provider = await RefreshProvider.start(300);
  });
  afterAll(async () => {
    await provider?.stop();
    await db?.destroy();
  });

  it('runs refresh once for 50 callers split over two DataSources in two processes', async () => {
    const alice = await db.dataSource.getRepository(User).save({ name: 'alice' });
    const storage = new TypeOrmStorage<User>(db.dataSource, OAuth, { user: alice });
    await storage.set('github', expired());
    const schema = (db.dataSource.options as { schema?: string }).schema!;

    // A second DataSource in this process: refreshes are shared per DataSource, so only the row lock keeps this to one.
    const second = await new DataSource({ type: 'postgres', url: DATABASE_URL, schema, entities: allModels }).initialize();
    const child = fork(join(__dirname, 'support', 'refresh-worker.ts'), [], {
      execArgv: ['-r', 'ts-node/register/transpile-only'],
      env: { ...process.env, DATABASE_URL, SCHEMA: schema, USER_ID: String(alice.id), PROVIDER_URL: provider.url },
    });
    try {
      const message = (type: string) =>
        new Promise<Record<string, unknown>>((resolve, reject) => {
          const listener = (m: Record<string, unknown>) => {
            if (m.error) reject(new Error(String(m.error)));
            else if (type in m) {
              child.off('message', listener);
              resolve(m);
            }
          };
          child.on('message', listener);
        });
      await message('ready');
      const fromChild = message('tokens');
      child.send({ go: 20 });
      const otherStorage = new TypeOrmStorage<User>(second, OAuth, { user: alice });
      const here = await Promise.all([
        ...Array.from({ length: 15 }, () => storage.getValid('github', refreshAt(provider.url))),
        ...Array.from({ length: 15 }, () => otherStorage.getValid('github', refreshAt(provider.url))),
      ]);
      const there = (await fromChild).tokens as OAuthToken[];
      expect(provider.requests).toBe(1);
      for (const token of [...here, ...there]) expect(token).toMatchObject({ access_token: 'refreshed-1', refresh_token: 'r1' });
    } finally {
      child.send({ stop: true });
      await once(child, 'exit');
      await second.destroy();
    }
  }, 60_000);
});
