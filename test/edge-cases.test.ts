import { inspect } from 'node:util';
import { InvalidTokenError, TypeOrmStorage } from '../src';
import { QueryFailedError } from 'typeorm';
import { mapCache } from './support/map-cache';
import { databases, postgres, type TestDatabase } from './support/databases';
import { BotToken, OAuth } from './support/models';
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
