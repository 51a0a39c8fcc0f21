import { inspect } from 'node:util';
import Keyv from 'keyv';
import KeyvRedis from '@keyv/redis';
import { createCache } from 'cache-manager';
import { QueryFailedError } from 'typeorm';
import {
  InvalidProviderError,
  InvalidTokenError,
  InvalidUserError,
  OAuthStorageError,
  TypeOrmStorage,
  UserRequiredError,
  type CacheLike,
} from '../src';
import { describeStorageContract } from './contract/storage-contract';
import { databases, type TestDatabase } from './support/databases';
import { mapCache } from './support/map-cache';
import { useDatabase } from './support/use-database';
import { Account, AccountToken, BotToken, OAuth, User } from './support/models';
import { describeWith, REDIS_URL, redisUp } from './support/services';

const token = (n: number) => ({ access_token: `access-${n}`, token_type: 'bearer' });

for (const kind of databases) {
  describeWith(kind.up)(`TypeOrmStorage on ${kind.name}`, () => {
    let db: TestDatabase;
    let alice: User;
    let bob: User;
    useDatabase(kind, (state) => ({ db, alice, bob } = state));

    const rows = () => db.dataSource.getRepository(OAuth).find({ order: { id: 'ASC' } });

    describeStorageContract(`${kind.name}, no cache`, () => ({
      storage: new TypeOrmStorage(db.dataSource, OAuth),
      users: [{ user: alice }, { userId: bob.id }],
    }), { perUser: true });

    describeStorageContract(`${kind.name}, in-process cache`, () => ({
      storage: new TypeOrmStorage(db.dataSource, OAuth, { cache: mapCache() }),
      users: [{ user: alice }, { userId: bob.id }],
    }), { perUser: true });

    describeWith(redisUp)(`${kind.name}, Keyv on Redis`, () => {
      const keyv = new Keyv({ store: new KeyvRedis(REDIS_URL), namespace: `oauth-contract-${kind.name}-${process.pid}` });
      // The tables are emptied behind the storage's back before each test; so is the cache.
      beforeEach(() => keyv.clear());
      afterAll(async () => {
        await keyv.clear();
        await keyv.disconnect();
      });
      describeStorageContract(`${kind.name}, Keyv on Redis`, () => ({
        storage: new TypeOrmStorage(db.dataSource, OAuth, { cache: keyv, cacheTtl: 60_000 }),
        users: [{ user: alice }, { userId: bob.id }],
      }), { perUser: true });
    });

    describe('scoping', () => {
      it('without a user touches only the app-wide row, never users\' rows (unlike Flask-Dance)', async () => {
        const perUser = new TypeOrmStorage(db.dataSource, OAuth, { user: () => alice });
        await perUser.set('github', token(1));
        const appWide = new TypeOrmStorage(db.dataSource, OAuth);
        expect(await appWide.get('github')).toBeNull();
        await appWide.set('github', token(2));
        expect(await perUser.get('github')).toEqual(token(1));
        await appWide.delete('github');
        expect(await perUser.get('github')).toEqual(token(1));
        expect((await rows()).map((r) => r.userId)).toEqual([alice.id]);
      });

      it('refuses calls without a user when one is required, with the exact message, and writes nothing', async () => {
        const storage = new TypeOrmStorage<User>(db.dataSource, OAuth, { user: () => null });
        for (const call of [() => storage.get('github'), () => storage.set('github', token(1)), () => storage.delete('github')]) {
          await expect(call()).rejects.toThrow(new UserRequiredError());
          await expect(call()).rejects.toThrow('Cannot get OAuth token without an associated user');
        }
        expect(db.logger.queries).toHaveLength(0);
        expect(await rows()).toHaveLength(0);
      });

      it('lets userRequired: false fall back to the app-wide row', async () => {
        const storage = new TypeOrmStorage<User>(db.dataSource, OAuth, { user: () => null, userRequired: false });
        await storage.set('github', token(1));
        expect((await rows()).map((r) => r.userId)).toEqual([null]);
      });

      it('treats anonymous users as no user', async () => {
        const guest = { id: 0, anonymous: true } as unknown as User;
        const storage = new TypeOrmStorage<User>(db.dataSource, OAuth, {
          user: () => guest,
          isAnonymous: (user) => (user as { anonymous?: boolean }).anonymous === true,
        });
        await expect(storage.get('github')).rejects.toBeInstanceOf(UserRequiredError);
        expect(await storage.get('github', { user: bob })).toBeNull();
      });

      it('prefers the per-call scope to the configuration, and userId to user within a level', async () => {
        const storage = new TypeOrmStorage<User>(db.dataSource, OAuth, { user: async () => alice, userId: () => bob.id });
        await storage.set('github', token(1)); // configured userId (bob) wins over configured user
        await storage.set('github', token(2), { user: alice }); // per-call user wins over configured userId
        await storage.set('github', token(3), { user: bob, userId: alice.id }); // per-call userId wins
        const byUser = Object.fromEntries((await rows()).map((r) => [r.userId, r.token]));
        expect(byUser).toEqual({ [bob.id]: token(1), [alice.id]: token(3) });
      });

      it('reads the id off the user object without querying users', async () => {
        const storage = new TypeOrmStorage<User>(db.dataSource, OAuth, { user: alice });
        expect(await db.logger.count(() => storage.get('github'))).toBe(1);
        expect(db.logger.queries[0].query).not.toMatch(/"user"\b/i);
      });

      it('rejects user objects without an id and odd ids with InvalidUserError', async () => {
        const storage = new TypeOrmStorage<User>(db.dataSource, OAuth);
        for (const scope of [{ user: {} as User }, { user: { id: NaN } as User }, { userId: '' }, { userId: {} as any }]) {
          await expect(storage.set('github', token(1), scope)).rejects.toBeInstanceOf(InvalidUserError);
        }
        expect(await rows()).toHaveLength(0);
      });
    });

    describe('models', () => {
      it('finds the relation through metadata: string ids, no FK property, a custom join column name', async () => {
        const [one, two] = await db.dataSource.getRepository(Account).save([
          { uuid: '0b6b5d8e-8f3e-4c1e-9f55-1f3c1e0a0001' },
          { uuid: '0b6b5d8e-8f3e-4c1e-9f55-1f3c1e0a0002' },
        ]);
        const storage = new TypeOrmStorage<Account>(db.dataSource, AccountToken, { user: () => one });
        await storage.set('github', token(1));
        await storage.set('github', token(2), { userId: two.uuid });
        expect(await storage.get('github')).toEqual(token(1));
        expect(await storage.get('github', { user: two })).toEqual(token(2));
        const stored = await db.dataSource.getRepository(AccountToken).find({ relations: { user: true }, order: { id: 'ASC' } });
        expect(stored.map((r) => r.user?.uuid)).toEqual([one.uuid, two.uuid]);
      });

      it('keeps one app-wide token per provider in a model without users', async () => {
        const storage = new TypeOrmStorage(db.dataSource, BotToken);
        await Promise.all(Array.from({ length: 25 }, (_, i) => storage.set('slack', token(i))));
        expect(await db.dataSource.getRepository(BotToken).count()).toBe(1);
        await storage.set('discord', token(99));
        expect(await storage.get('discord')).toEqual(token(99));
      });

      it('says what to add when users are configured for a model without a user relation', async () => {
        expect(() => new TypeOrmStorage(db.dataSource, BotToken, { user: () => alice })).toThrow(/has no "user" relation.*ManyToOne/);
        const storage = new TypeOrmStorage(db.dataSource, BotToken);
        await expect(storage.get('slack', { user: alice })).rejects.toThrow(OAuthStorageError);
      });
    });

    describe('uniqueness under concurrency', () => {
      it('leaves exactly one row after 25 concurrent sets, for a user and for the app-wide row', async () => {
        const storage = new TypeOrmStorage<User>(db.dataSource, OAuth, { userRequired: false });
        await Promise.all([
          ...Array.from({ length: 25 }, (_, i) => storage.set('github', token(i), { user: alice })),
          ...Array.from({ length: 25 }, (_, i) => storage.set('github', token(i))),
        ]);
        const stored = await rows();
        expect(stored.map((r) => r.userId).sort()).toEqual([alice.id, null].sort());
      });

      it('writes with one statement and reads cold with one', async () => {
        const storage = new TypeOrmStorage<User>(db.dataSource, OAuth, { user: alice });
        expect(await db.logger.count(() => storage.set('github', token(1)))).toBe(1);
        expect(await db.logger.count(() => storage.set('github', token(2)))).toBe(1);
        expect(await db.logger.count(() => storage.get('github'))).toBe(1);
        expect(await db.logger.count(() => storage.delete('github'))).toBe(1);
      });

      it('updates updatedAt and keeps createdAt on replace', async () => {
        const storage = new TypeOrmStorage<User>(db.dataSource, OAuth, { user: alice });
        await storage.set('github', token(1));
        const [before] = await rows();
        await db.dataSource.createQueryBuilder().update(OAuth).set({ updatedAt: new Date('2000-01-01T00:00:00Z') }).execute();
        expect((await rows())[0].updatedAt.getUTCFullYear()).toBe(2000);
        await storage.set('github', token(2));
        const [after] = await rows();
        expect(after.id).toBe(before.id);
        expect(after.createdAt).toEqual(before.createdAt);
        expect(after.updatedAt.getUTCFullYear()).toBeGreaterThan(2000);
      });
    });

    describe('rows the app writes itself', () => {
      it('finds them, and the database refuses duplicates of them', async () => {
        const repo = db.dataSource.getRepository(OAuth);
        await repo.save({ user: alice, provider: 'github', token: token(1) });
        await repo.save({ provider: 'github', token: token(2) });
        const storage = new TypeOrmStorage<User>(db.dataSource, OAuth, { userRequired: false });
        expect(await storage.get('github', { user: alice })).toEqual(token(1));
        expect(await storage.get('github')).toEqual(token(2));
        await expect(repo.save({ user: alice, provider: 'github', token: token(3) })).rejects.toThrow();
        await expect(repo.insert({ provider: 'github', token: token(4) })).rejects.toThrow();
        await storage.set('github', token(5), { user: alice });
        expect(await rows()).toHaveLength(2);
      });
    });

    describe('logging', () => {
      it('reports every statement to the DataSource logger', async () => {
        const storage = new TypeOrmStorage<User>(db.dataSource, OAuth, { user: alice });
        await storage.set('github', token(1));
        await storage.get('github');
        await storage.delete('github');
        expect(db.logger.queries.map((q) => q.query.split(' ')[0])).toEqual(['INSERT', 'SELECT', 'DELETE']);
      });

      it('masks the token in what the logger receives, and in errors', async () => {
        const storage = new TypeOrmStorage<User>(db.dataSource, OAuth, { user: alice });
        await storage.set('github', { access_token: 'sekrit-log' });
        const logged = JSON.stringify(db.logger.queries);
        expect(logged).not.toContain('sekrit-log');
        expect(db.logger.queries[0].parameters).toContain('[token]');

        await db.dataSource.query(`ALTER TABLE ${db.dataSource.driver.escape('o_auth')} RENAME TO ${db.dataSource.driver.escape('o_auth_gone')}`);
        try {
          const error = await storage.set('github', { access_token: 'sekrit-err' }).catch((e) => e);
          expect(error).toBeInstanceOf(QueryFailedError);
          expect(inspect(error, { depth: 10 }) + String(error.message)).not.toContain('sekrit-err');
        } finally {
          await db.dataSource.query(`ALTER TABLE ${db.dataSource.driver.escape('o_auth_gone')} RENAME TO ${db.dataSource.driver.escape('o_auth')}`);
        }
      });

      it('keeps the token out of inspect and JSON output of rows', async () => {
        await new TypeOrmStorage<User>(db.dataSource, OAuth, { user: alice }).set('github', { access_token: 'sekrit-xyz' });
        const [row] = await rows();
        expect(inspect(row)).toBe(`OAuth { id: ${row.id}, provider: 'github' }`);
        expect(JSON.parse(JSON.stringify(row))).toEqual({ entity: 'OAuth', id: row.id, provider: 'github' });
        expect(inspect([row], { depth: 5 })).not.toContain('sekrit');
        expect(row.token).toEqual({ access_token: 'sekrit-xyz' });
      });
    });

    describe('transactions', () => {
      it('joins the transaction of the manager it is given', async () => {
        const storage = new TypeOrmStorage<User>(db.dataSource, OAuth, { user: alice });
        await storage.set('github', token(1));
        await expect(
          db.dataSource.transaction(async (manager) => {
            await storage.set('github', token(2), { manager });
            await storage.set('google', token(3), { manager });
            expect(await storage.get('github', { manager })).toEqual(token(2));
            throw new Error('roll back');
          }),
        ).rejects.toThrow('roll back');
        expect(await storage.get('github')).toEqual(token(1));
        expect(await storage.get('google')).toBeNull();

        await db.dataSource.transaction(async (manager) => {
          await storage.delete('github', { manager });
        });
        expect(await storage.get('github')).toBeNull();
      });

      it('keeps working after the DataSource is destroyed and initialized again', async () => {
        const storage = new TypeOrmStorage<User>(db.dataSource, OAuth, { user: alice });
        await storage.set('github', token(1));
        await db.dataSource.destroy();
        await db.dataSource.initialize();
        expect(await storage.get('github')).toEqual(token(1));
      });
    });

    describe('bad input', () => {
      it('gets a typed error before any SQL runs', async () => {
        const storage = new TypeOrmStorage<User>(db.dataSource, OAuth, { user: alice });
        await expect(storage.set('', token(1))).rejects.toBeInstanceOf(InvalidProviderError);
        await expect(storage.set('github', 'x' as any)).rejects.toBeInstanceOf(InvalidTokenError);
        await expect(storage.get('x'.repeat(51))).rejects.toBeInstanceOf(InvalidProviderError);
        expect(db.logger.queries).toHaveLength(0);
      });
    });

    describe('cache', () => {
      it('serves a cached get without SQL, per user, and invalidates on set and delete', async () => {
        const cache = mapCache();
        const storage = new TypeOrmStorage<User>(db.dataSource, OAuth, { cache });
        await storage.set('github', token(1), { user: alice });
        await storage.set('github', token(2), { user: bob });
        await storage.get('github', { user: alice });
        expect(await db.logger.count(() => storage.get('github', { user: alice }))).toBe(0);
        expect(await storage.get('github', { user: bob })).toEqual(token(2));
        await storage.set('github', token(3), { user: alice });
        expect(await storage.get('github', { user: alice })).toEqual(token(3));
        await storage.delete('github', { user: alice });
        expect(await storage.get('github', { user: alice })).toBeNull();
        expect(await storage.get('github', { user: bob })).toEqual(token(2));
      });

      it('falls back to the database when the cache throws or hangs, and says so once', async () => {
        const broken: CacheLike = {
          get: () => Promise.reject(new Error('down')),
          set: () => {
            throw new Error('down');
          },
          del: () => new Promise(() => {}),
        };
        const storage = new TypeOrmStorage<User>(db.dataSource, OAuth, { user: alice, cache: broken, cacheTimeout: 50 });
        await storage.set('github', token(1));
        expect(await storage.get('github')).toEqual(token(1));
        await storage.delete('github');
        expect(await storage.get('github')).toBeNull();
        const warnings = db.logger.messages.filter((m) => m.level === 'warn');
        expect(warnings).toHaveLength(1);
        expect(String(warnings[0].message)).toMatch(/cache .* failed/);
      });

      it('works with cache-manager as it is', async () => {
        const storage = new TypeOrmStorage<User>(db.dataSource, OAuth, { user: alice, cache: createCache(), cacheTtl: 60_000 });
        await storage.set('github', token(1));
        await storage.get('github');
        expect(await db.logger.count(() => storage.get('github'))).toBe(0);
      });

      describeWith(redisUp)('with Keyv on Redis', () => {
        let keyv: Keyv;
        beforeAll(() => {
          keyv = new Keyv({ store: new KeyvRedis(REDIS_URL), namespace: `oauth-test-${kind.name}-${process.pid}` });
        });
        afterAll(async () => {
          await keyv.clear();
          await keyv.disconnect();
        });

        it('shares cached tokens between storages and never across users', async () => {
          const writer = new TypeOrmStorage<User>(db.dataSource, OAuth, { cache: keyv, cacheTtl: 60_000 });
          const reader = new TypeOrmStorage<User>(db.dataSource, OAuth, { cache: keyv });
          await writer.set('github', token(1), { user: alice });
          expect(await writer.get('github', { user: alice })).toEqual(token(1));
          expect(await db.logger.count(() => reader.get('github', { user: alice }))).toBe(0);
          expect(await reader.get('github', { user: bob })).toBeNull();
          await reader.delete('github', { user: alice });
          expect(await writer.get('github', { user: alice })).toBeNull();
        });
      });
    });
  });
}
