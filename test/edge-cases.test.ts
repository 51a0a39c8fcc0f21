import { inspect } from 'node:util';
import { InvalidProviderError, InvalidTokenError, InvalidUserError, OAuthStorageError, TypeOrmStorage } from '../src';
import { QueryFailedError } from 'typeorm';
import { mapCache } from './support/map-cache';
import { databases, postgres, type TestDatabase } from './support/databases';
import { AccountToken, BotToken, OAuth, User } from './support/models';
import { describeWith } from './support/services';


for (const kind of databases) {
  describeWith(kind.up)(`edge cases on ${kind.name}`, () => {
    let db: TestDatabase;
    beforeAll(async () => {
      db = await kind.create();
    });
    afterAll(async () => {
      await db?.destroy();
    });
    beforeEach(() => db.clear());

    it('lets cached generations expire with cacheTtl, so a cache never fills with them', async () => {
      const ttls: Array<[string, number | undefined]> = [];
      const inner = mapCache();
      const cache = { ...inner, set: (k: string, v: string, ttl?: number) => (ttls.push([k, ttl]), inner.set(k, v, ttl)) };
      const storage = new TypeOrmStorage(db.dataSource, OAuth, { cache, cacheTtl: 60_000 });
      await storage.get('github');
      await storage.set('github', { access_token: 'a' });
      await storage.get('github');
      expect(ttls.length).toBeGreaterThanOrEqual(3);
      expect(ttls.every(([, ttl]) => ttl === 60_000)).toBe(true);
    });

    it('keeps two models that share one cache apart', async () => {
      const cache = mapCache();
      const users = new TypeOrmStorage(db.dataSource, OAuth, { cache });
      const bots = new TypeOrmStorage(db.dataSource, BotToken, { cache });
      await users.set('slack', { access_token: 'app-wide OAuth row' });
      await bots.set('slack', { access_token: 'bot row' });
      expect(await users.get('slack')).toEqual({ access_token: 'app-wide OAuth row' });
      expect(await bots.get('slack')).toEqual({ access_token: 'bot row' });
      expect(await users.get('slack')).toEqual({ access_token: 'app-wide OAuth row' });
    });

    it('refuses strings a database cannot hold exactly with InvalidTokenError, never quoting them', async () => {
      const storage = new TypeOrmStorage(db.dataSource, OAuth);
      for (const value of ['secret-abc\u0000def', 'secret-abc\ud800', 'secret-\udc00']) {
        for (const token of [{ access_token: value }, { [value]: 'x' }]) {
          const error = await storage.set('github', token).catch((e) => e);
          expect(error).toBeInstanceOf(InvalidTokenError);
          expect(inspect(error, { depth: 10 })).not.toContain('secret-');
        }
      }
      expect(await storage.get('github')).toBeNull();
      await storage.set('github', { access_token: 'emoji 🚀 keeps its surrogate pair' });
      expect(await storage.get('github')).toEqual({ access_token: 'emoji 🚀 keeps its surrogate pair' });
    });

    it('treats every spelling of one user id as one owner: cache, encryption and rows agree', async () => {
      const alice = await db.dataSource.getRepository(User).save({ name: 'alice' });
      const encryption = { keys: { k: Buffer.alloc(32, 3) }, current: 'k' };
      const storage = new TypeOrmStorage(db.dataSource, OAuth, { cache: mapCache(), encryption });
      await storage.set('github', { access_token: 'old' }, { userId: alice.id });
      expect(await storage.get('github', { userId: `0${alice.id}` })).toEqual({ access_token: 'old' });
      await storage.delete('github', { userId: ` ${alice.id}` });
      expect(await storage.get('github', { userId: alice.id })).toBeNull();
      await storage.set('github', { access_token: 'new' }, { userId: String(alice.id) });
      expect(await storage.get('github', { user: alice })).toEqual({ access_token: 'new' });
      expect(await storage.rotate()).toBe(0);
      db.logger.reset();
      await expect(storage.get('github', { userId: 'alice' })).rejects.toBeInstanceOf(InvalidUserError);
      await expect(storage.get('github', { userId: 1.5 })).rejects.toBeInstanceOf(InvalidUserError);
      expect(db.logger.queries).toHaveLength(0);
    });

    it('refuses NUL and lone surrogates in providers and user ids before any SQL', async () => {
      const storage = new TypeOrmStorage(db.dataSource, AccountToken);
      db.logger.reset();
      for (const provider of ['git\u0000hub', 'git\ud800hub']) {
        await expect(storage.get(provider)).rejects.toBeInstanceOf(InvalidProviderError);
      }
      for (const userId of ['acc\u0000ount', 'acc\udc00ount']) {
        await expect(storage.get('github', { userId })).rejects.toBeInstanceOf(InvalidUserError);
      }
      expect(db.logger.queries).toHaveLength(0);
    });

    it('turns an expires_in sent as a string into expires_at, so the token can be found and refreshed', async () => {
      const storage = new TypeOrmStorage(db.dataSource, OAuth);
      await storage.set('azure', { access_token: 'a', expires_in: '30' as unknown as number });
      const stored = (await storage.get('azure'))!;
      expect(stored.expires_at).toBeGreaterThan(Date.now() / 1000);
      expect((await storage.findExpiring(60)).map((e) => e.provider)).toEqual(['azure']);
      expect(await storage.findExpiring(1e300)).toHaveLength(1);
      await expect(storage.findExpiring(60, { limit: 1e300 })).rejects.toBeInstanceOf(OAuthStorageError);
    });

    it('stores tokens whose expires_at lies beyond what the expiry column holds', async () => {
      const storage = new TypeOrmStorage(db.dataSource, OAuth);
      await storage.set('github', { access_token: 'a', expires_at: 1e19 });
      expect(await storage.get('github')).toEqual({ access_token: 'a', expires_at: 1e19 });
      expect((await db.dataSource.getRepository(OAuth).findOneByOrFail({ provider: 'github' })).expiresAt).toBe(
        Number.MAX_SAFE_INTEGER,
      );
    });
  });
}

describeWith(postgres.up)('database errors that quote the failing row, on postgres', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await postgres.create();
  });
  afterAll(async () => {
    await db?.destroy();
  });

  it('keep the token out of the error and the log', async () => {
    const q = (name: string) => db.dataSource.driver.escape(name);
    // A check constraint of the app's: PostgreSQL's error detail then says "Failing row contains (...)", token included.
    await db.dataSource.query(`ALTER TABLE ${q('o_auth')} ADD CONSTRAINT ${q('no_forbidden')} CHECK (${q('token')}::text NOT LIKE '%forbidden%')`);
    const error = await new TypeOrmStorage(db.dataSource, OAuth).set('github', { access_token: 'forbidden-secret-1' }).catch((e) => e);
    expect(error).toBeInstanceOf(QueryFailedError);
    expect(String(error.message)).toMatch(/check constraint/);
    expect(inspect(error, { depth: 10 }) + JSON.stringify(error)).not.toContain('forbidden-secret');
    expect(JSON.stringify(db.logger.queries)).not.toContain('forbidden-secret');
  });
});
