import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import Keyv from 'keyv';
import KeyvRedis from '@keyv/redis';
import { TypeOrmStorage } from '../src';
import { GatedCache } from './support/gated-cache';
import { mapCache } from './support/map-cache';
import { useDatabase } from './support/use-database';
import { databases, postgres, type TestDatabase } from './support/databases';
import { OAuth, User } from './support/models';
import { DATABASE_URL, describeWith, REDIS_URL, redisUp } from './support/services';

const v = (n: number) => ({ access_token: `v${n}` });


/** Resolves when `held` has been called: the reader has read the row and waits to fill the cache. */
function heldSignal() {
  let resolve!: () => void;
  const held = new Promise<void>((r) => (resolve = r));
  return { held, onHeld: () => resolve() };
}

for (const kind of databases) {
  describeWith(kind.up)(`cache coherence on ${kind.name}`, () => {
    let db: TestDatabase;
    let alice: User;
    useDatabase(kind, (state) => ({ db, alice } = state));

    for (const write of ['set', 'delete'] as const) {
      it(`never serves the old token after ${write} resolves, even when a reader that missed fills the cache late`, async () => {
        const shared = mapCache();
        const { held, onHeld } = heldSignal();
        const gated = new GatedCache(shared, onHeld);
        const reader = new TypeOrmStorage<User>(db.dataSource, OAuth, { user: alice, cache: gated });
        const writer = new TypeOrmStorage<User>(db.dataSource, OAuth, { user: alice, cache: shared });
        await writer.set('github', v(1));

        gated.close();
        const slowRead = reader.get('github'); // misses, reads v1, then waits to fill
        await held;
        if (write === 'set') await writer.set('github', v(2));
        else await writer.delete('github');
        gated.open();
        expect(await slowRead).toEqual(v(1)); // it began before the write: either answer is fair

        const expected = write === 'set' ? v(2) : null;
        expect(await reader.get('github')).toEqual(expected);
        expect(await writer.get('github')).toEqual(expected);
        db.logger.reset();
        expect(await reader.get('github')).toEqual(expected);
      });
    }

    it('does not cache rows a transaction has not committed, and invalidates once it commits', async () => {
      const cache = mapCache();
      const storage = new TypeOrmStorage<User>(db.dataSource, OAuth, { user: alice, cache });
      await storage.set('github', v(1));
      expect(await storage.get('github')).toEqual(v(1));
      await db.dataSource.transaction(async (manager) => {
        await storage.set('github', v(2), { manager });
        expect(await storage.get('github', { manager })).toEqual(v(2));
        if (kind.name === 'postgres') {
          // Another request, outside the transaction, still sees (and may cache) v1 until the commit.
          expect(await storage.get('github')).toEqual(v(1));
        }
      });
      expect(await storage.get('github')).toEqual(v(2));
    });

    it('still invalidates after commits once the DataSource has been initialized again', async () => {
      const cache = mapCache();
      const storage = new TypeOrmStorage<User>(db.dataSource, OAuth, { user: alice, cache });
      await db.dataSource.transaction((manager) => storage.set('github', v(1), { manager }));
      await db.dataSource.destroy();
      await db.dataSource.initialize();
      expect(await storage.get('github')).toEqual(v(1));
      await db.dataSource.transaction(async (manager) => {
        await storage.set('github', v(2), { manager });
        if (kind.name === 'postgres') expect(await storage.get('github')).toEqual(v(1)); // cached while uncommitted
      });
      expect(await storage.get('github')).toEqual(v(2));
    });

    it('keeps the cached token when a transaction that wrote it rolls back', async () => {
      const cache = mapCache();
      const storage = new TypeOrmStorage<User>(db.dataSource, OAuth, { user: alice, cache });
      await storage.set('github', v(1));
      await db.dataSource
        .transaction(async (manager) => {
          await storage.set('github', v(2), { manager });
          throw new Error('roll back');
        })
        .catch(() => undefined);
      expect(await storage.get('github')).toEqual(v(1));
    });
  });
}

describeWith(postgres.up && redisUp)('cache coherence across two processes sharing PostgreSQL and Redis', () => {
  let db: TestDatabase;
  let keyv: Keyv;
  let child: ChildProcess | undefined;
  const namespace = `oauth-coherence-${process.pid}-${Date.now()}`;

  beforeAll(async () => {
    db = await postgres.create();
    keyv = new Keyv({ store: new KeyvRedis(REDIS_URL), namespace });
  });
  afterAll(async () => {
    child?.kill();
    await keyv?.clear();
    await keyv?.disconnect();
    await db?.destroy();
  });

  const next = (type: string) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const onMessage = (message: Record<string, unknown>) => {
        if (message.error) reject(new Error(String(message.error)));
        else if (type in message) {
          child!.off('message', onMessage);
          resolve(message);
        }
      };
      child!.on('message', onMessage);
    });

  for (const write of ['set', 'delete'] as const) {
    it(`a reader in another process never serves the old token after ${write} resolves`, async () => {
      await db.clear();
      const alice = await db.dataSource.getRepository(User).save({ name: 'alice' });
      const writer = new TypeOrmStorage<User>(db.dataSource, OAuth, { user: alice, cache: keyv });
      await writer.set('github', v(1));

      child = fork(join(__dirname, 'support', 'coherence-reader.ts'), [], {
        execArgv: ['-r', 'ts-node/register/transpile-only'],
        env: {
          ...process.env,
          DATABASE_URL,
          REDIS_URL,
          SCHEMA: (db.dataSource.options as { schema?: string }).schema!,
          NAMESPACE: namespace,
          USER_ID: String(alice.id),
        },
      });
      try {
        await next('ready');
        const held = next('held');
        const slowRead = next('token');
        child.send({ get: true, hold: true });
        await held; // the other process has read v1 and waits to fill the cache
        if (write === 'set') await writer.set('github', v(2));
        else await writer.delete('github');
        child.send({ release: true });
        expect((await slowRead).token).toEqual(v(1));

        const expected = write === 'set' ? v(2) : null;
        const again = next('token');
        child.send({ get: true, hold: false });
        expect((await again).token).toEqual(expected);
        expect(await writer.get('github')).toEqual(expected);
      } finally {
        child.send({ stop: true });
        await once(child, 'exit');
        child = undefined;
      }
    }, 60_000);
  }
});
