import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import {
  OAuthStorageError,
  TokenDecryptionError,
  TypeOrmStorage,
  type EncryptionOptions,
} from '../src';
import { describeStorageContract } from './contract/storage-contract';
import { databases, type TestDatabase } from './support/databases';
import { mapCache } from './support/map-cache';
import { useDatabase } from './support/use-database';
import { BotToken, OAuth, User } from './support/models';
import { describeWith } from './support/services';

const key0 = randomBytes(32);
const key1 = randomBytes(32);
const keysBoth: EncryptionOptions = { keys: { '2026-12': key1, '2026-06': key0.toString('base64') }, current: '2026-12' };
const keysOld: EncryptionOptions = { keys: { '2026-06': key0 }, current: '2026-06' };
const secret = { access_token: 'gho_secret_value', refresh_token: 'ghr_refresh_value', scope: 'repo', expires_in: 3600 };

for (const kind of databases) {
  describeWith(kind.up)(`encryption on ${kind.name}`, () => {
    let db: TestDatabase;
    let alice: User;
    let bob: User;
    useDatabase(kind, (state) => ({ db, alice, bob } = state));

    const rawRows = async () =>
      (await db.dataSource.getRepository(OAuth).find({ order: { id: 'ASC' } })).map((r) => ({ ...r, text: JSON.stringify(r.token) }));

    describeStorageContract(`${kind.name}, encrypted`, () => ({
      storage: new TypeOrmStorage(db.dataSource, OAuth, { encryption: keysBoth }),
      users: [{ user: alice }, { userId: bob.id }],
    }), { perUser: true });

    it('stores only an envelope: no field of the token reaches the database', async () => {
      const storage = new TypeOrmStorage<User>(db.dataSource, OAuth, { user: alice, encryption: keysBoth });
      await storage.set('github', secret);
      const [row] = await rawRows();
      expect(Object.keys(row.token).sort()).toEqual(['alg', 'ct', 'iv', 'kid', 'tag']);
      expect(row.token.kid).toBe('2026-12');
      for (const value of ['gho_secret_value', 'ghr_refresh_value', 'repo', 'access_token', 'expires_in']) {
        expect(row.text).not.toContain(value);
      }
      expect(await storage.get('github')).toMatchObject(secret);
    });

    it('refuses a ciphertext copied into another user\'s row', async () => {
      const storage = new TypeOrmStorage<User>(db.dataSource, OAuth, { encryption: keysBoth });
      await storage.set('github', secret, { user: alice });
      await storage.set('github', { access_token: 'bob' }, { user: bob });
      const repo = db.dataSource.getRepository(OAuth);
      const aliceRow = await repo.findOneByOrFail({ userId: alice.id });
      await repo.update({ userId: bob.id }, { token: aliceRow.token });
      await expect(storage.get('github', { user: bob })).rejects.toBeInstanceOf(TokenDecryptionError);
      // Nor into another provider of the same user.
      await repo.insert({ provider: 'google', userId: alice.id, token: aliceRow.token });
      await expect(storage.get('google', { user: alice })).rejects.toBeInstanceOf(TokenDecryptionError);
      expect(await storage.get('github', { user: alice })).toMatchObject(secret);
    });

    it('refuses tampered ciphertexts, unknown key ids, and envelopes without keys', async () => {
      const storage = new TypeOrmStorage<User>(db.dataSource, OAuth, { user: alice, encryption: keysBoth });
      await storage.set('github', secret);
      const repo = db.dataSource.getRepository(OAuth);
      const row = await repo.findOneByOrFail({ userId: alice.id });
      const ct = Buffer.from(row.token.ct as string, 'base64');
      ct[0] ^= 1;
      await repo.update({ id: row.id }, { token: { ...row.token, ct: ct.toString('base64') } });
      const tampered = await storage.get('github').catch((e) => e);
      expect(tampered).toBeInstanceOf(TokenDecryptionError);
      expect(tampered).toBeInstanceOf(OAuthStorageError);
      expect(inspect(tampered)).not.toContain('gho_secret_value');

      await repo.update({ id: row.id }, { token: { ...row.token, kid: 'lost' } });
      await expect(storage.get('github')).rejects.toThrow(/key id "lost"/);
      await repo.update({ id: row.id }, { token: row.token });
      await expect(new TypeOrmStorage<User>(db.dataSource, OAuth, { user: alice }).get('github')).rejects.toBeInstanceOf(
        TokenDecryptionError,
      );
    });

    it('reads rows written before encryption was turned on, and rotate() moves every row to the current key', async () => {
      const plain = new TypeOrmStorage<User>(db.dataSource, OAuth, { userRequired: false });
      await plain.set('github', { access_token: 'plain' }, { user: alice });
      await plain.set('github', { access_token: 'app-wide' });
      const old = new TypeOrmStorage<User>(db.dataSource, OAuth, { userRequired: false, encryption: keysOld });
      await old.set('google', { access_token: 'old-key' }, { user: bob });
      await old.set('gitlab', { access_token: 'current' }, { user: bob });

      const cache = mapCache();
      const current = new TypeOrmStorage<User>(db.dataSource, OAuth, { userRequired: false, encryption: keysBoth, cache });
      expect(await current.get('github', { user: alice })).toEqual({ access_token: 'plain' });
      expect(await current.get('google', { user: bob })).toEqual({ access_token: 'old-key' }); // cached under the old key
      await current.set('gitlab', { access_token: 'current' }, { user: bob });

      expect(await current.rotate({ batchSize: 2 })).toBe(3);
      expect(await current.rotate()).toBe(0);
      expect((await rawRows()).map((r) => r.token.kid)).toEqual(['2026-12', '2026-12', '2026-12', '2026-12']);

      // The old key can go now; the cache holds nothing encrypted under it either.
      const newOnly = { keys: { '2026-12': key1 }, current: '2026-12' };
      const after = new TypeOrmStorage<User>(db.dataSource, OAuth, { userRequired: false, encryption: newOnly, cache });
      expect(await after.get('github', { user: alice })).toEqual({ access_token: 'plain' });
      expect(await after.get('github')).toEqual({ access_token: 'app-wide' });
      expect(await after.get('google', { user: bob })).toEqual({ access_token: 'old-key' });
      expect(await after.get('gitlab', { user: bob })).toEqual({ access_token: 'current' });
    });

    it('rotates app-wide rows of a model without users', async () => {
      await new TypeOrmStorage(db.dataSource, BotToken).set('slack', { access_token: 'bot' });
      const storage = new TypeOrmStorage(db.dataSource, BotToken, { encryption: keysBoth });
      expect(await storage.rotate()).toBe(1);
      expect(await storage.get('slack')).toEqual({ access_token: 'bot' });
    });

    it('does not overwrite a token written while rotate() runs', async () => {
      const old = new TypeOrmStorage<User>(db.dataSource, OAuth, { encryption: keysOld });
      await old.set('github', { access_token: 'a1' }, { user: alice });
      await old.set('github', { access_token: 'b1' }, { user: bob });
      const rotating = new TypeOrmStorage<User>(db.dataSource, OAuth, { encryption: keysBoth });
      const bobsRowChanges = concurrentWriter(db, bob.id, { access_token: 'b2' });
      const originalLog = db.logger.logQuery.bind(db.logger);
      // Bob's row changes after rotate() read it and before it replaces it.
      db.logger.logQuery = (query: string, parameters?: unknown[]) => {
        originalLog(query, parameters);
        if (query.startsWith('UPDATE') && parameters?.[1] === bobsRowChanges.rowId) bobsRowChanges.land();
      };
      try {
        await bobsRowChanges.prepare();
        expect(await rotating.rotate()).toBe(1);
      } finally {
        db.logger.logQuery = originalLog;
        await bobsRowChanges.done();
      }
      expect(await rotating.get('github', { user: bob })).toEqual({ access_token: 'b2' });
      expect(await rotating.get('github', { user: alice })).toEqual({ access_token: 'a1' });
    });

    it('checks keys at construction and never shows them', () => {
      const bad: unknown[] = [
        { keys: { a: randomBytes(16) }, current: 'a' },
        { keys: { a: 'not base64!' }, current: 'a' },
        { keys: { a: randomBytes(32).toString('base64').slice(0, 20) }, current: 'a' },
        { keys: { a: key0 }, current: 'b' },
        { keys: {}, current: 'a' },
        { keys: null, current: 'a' },
        { keys: { a: 42 }, current: 'a' },
      ];
      for (const encryption of bad) {
        expect(() => new TypeOrmStorage(db.dataSource, OAuth, { encryption: encryption as EncryptionOptions })).toThrow(
          OAuthStorageError,
        );
      }
      const storage = new TypeOrmStorage(db.dataSource, OAuth, { encryption: keysBoth });
      expect(inspect(storage, { depth: 10, showHidden: true })).not.toContain(key0.toString('base64'));
      expect(JSON.stringify(storage)).not.toContain(key0.toString('base64'));
    });
  });
}


/**
 * Another writer that changes a user's row at an exact moment. On PostgreSQL it
 * holds the row locked in an open transaction and commits when told, so a
 * statement waiting on the lock then sees the change; on SQLite, where the one
 * connection runs statements synchronously, it writes at once.
 */
function concurrentWriter(db: TestDatabase, userId: number, token: object) {
  const runner = db.dataSource.createQueryRunner();
  const q = (name: string) => db.dataSource.driver.escape(name);
  const state = { rowId: -1 as number, armed: false, committed: Promise.resolve() as Promise<unknown> };
  return {
    get rowId() {
      return state.rowId;
    },
    async prepare() {
      const row = await db.dataSource.getRepository(OAuth).findOneByOrFail({ userId });
      state.rowId = row.id;
      if (db.dataSource.options.type === 'postgres') {
        await runner.startTransaction();
        await runner.query(`UPDATE ${q('o_auth')} SET ${q('token')} = $1::jsonb WHERE ${q('id')} = $2`, [JSON.stringify(token), row.id]);
      }
      state.armed = true;
    },
    land() {
      if (!state.armed) return;
      state.armed = false;
      if (db.dataSource.options.type === 'postgres') {
        state.committed = runner.commitTransaction();
      } else {
        const connection = (db.dataSource.driver as unknown as { databaseConnection: import('better-sqlite3').Database }).databaseConnection;
        connection.prepare(`UPDATE ${q('o_auth')} SET ${q('token')} = jsonb(?) WHERE ${q('id')} = ?`).run(JSON.stringify(token), state.rowId);
      }
    },
    async done() {
      await state.committed;
      await runner.release();
    },
  };
}
