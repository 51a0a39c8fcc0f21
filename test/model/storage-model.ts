import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import fc from 'fast-check';
import Keyv from 'keyv';
import KeyvRedis from '@keyv/redis';
import { TypeOrmStorage, type CacheLike, type EncryptionOptions } from '../../src';
import type { DatabaseKind, TestDatabase } from '../support/databases';
import { mapCache } from '../support/map-cache';
import { reportFigures } from '../support/figures';
import { OAuth, User } from '../support/models';
import { describeWith, REDIS_URL, redisUp } from '../support/services';
import { commandArbs, rowKey, type Encoding, type Model, type Real } from './commands';
import { makeStorages, requestLag, USER_NAMES, type Owner, type UserName } from './owners';

/**
 * Model-based tests: random sequences of get/set/delete (and batches of them
 * issued at once, key rotation, rows from before encryption) against
 * TypeOrmStorage, compared step by step with a Map. fast-check shrinks any
 * divergence to a short sequence and prints it with the seed to replay it.
 * After each sequence the table itself is compared with the model: one row
 * per key, nothing else, each stored as the model says.
 */

/** Sequences per configuration, and their longest length: about 4,000 calls per database. */
const RUNS = 25;
const MAX_COMMANDS = 40;

const oldKey = randomBytes(32);
const newKey = randomBytes(32);
const KEY_IDS: Record<Exclude<Encoding, 'plain'>, string> = { 'old-key': '2026-06', 'current-key': '2026-12' };
const encryption: EncryptionOptions = { keys: { '2026-12': newKey, '2026-06': oldKey.toString('base64') }, current: '2026-12' };
const oldOnly: EncryptionOptions = { keys: { '2026-06': oldKey }, current: '2026-06' };

/** `cache`, with each call delayed by the lag the current call was generated with; same methods, getMany included. */
function lagging(cache: CacheLike): CacheLike {
  const remove = (cache.delete ?? cache.del)!.bind(cache);
  const getMany = (cache.getMany ?? cache.mget)?.bind(cache);
  const later = async <T>(run: () => T): Promise<Awaited<T>> => {
    const lag = requestLag();
    if (lag > 0) await sleep(lag);
    return await run();
  };
  return {
    get: (key) => later(() => cache.get(key)),
    set: (key, value, ttl) => later(() => cache.set(key, value, ttl)),
    delete: (key) => later(() => remove(key)),
    ...(getMany && { getMany: (keys: string[]) => later(() => getMany(keys)) }),
  };
}

interface Counts {
  sequences: number;
  calls: number;
  rowsChecked: number;
}

/** The model tests on one database: every cache (none, in-process, Keyv on Redis), with and without encryption. */
export function describeModel(kind: DatabaseKind): void {
  const figures: Record<string, Counts> = {};
  afterAll(() => {
    const total = { sequences: 0, calls: 0, rowsChecked: 0 };
    for (const counts of Object.values(figures)) {
      for (const name of Object.keys(total) as Array<keyof Counts>) total[name] += counts[name];
    }
    reportFigures(`model-${kind.name}`, { configurations: Object.keys(figures).length, ...total, byConfiguration: figures });
  });

  describeWith(kind.up)(`TypeOrmStorage on ${kind.name} against a Map model`, () => {
    let db: TestDatabase;
    let users: Record<UserName, User>;

    beforeAll(async () => {
      db = await kind.create();
      const saved = await db.dataSource.getRepository(User).save(USER_NAMES.map((name) => ({ name })));
      users = Object.fromEntries(USER_NAMES.map((name, i) => [name, saved[i]])) as Record<UserName, User>;
    });
    afterAll(async () => {
      await db?.destroy();
    });

    /** Runs sequences against storages sharing `cache` (emptied with the table before each sequence). */
    async function check(name: string, cache: CacheLike | undefined, clearCache: () => Promise<unknown>, encrypted: boolean) {
      const options = { cache: cache && lagging(cache), cacheTtl: 60_000 };
      const make = (extra: object) => new TypeOrmStorage<User>(db.dataSource, OAuth, { ...options, ...extra });
      const real: Real = {
        storages: makeStorages((o) => make({ ...o, ...(encrypted && { encryption }) })),
        users,
        legacy: encrypted ? { plain: make({}), 'old-key': make({ encryption: oldOnly }) } : null,
        steps: { count: 0 },
      };
      const uncached = new TypeOrmStorage<User>(db.dataSource, OAuth, encrypted ? { encryption } : {});
      const counts = { sequences: 0, calls: 0, rowsChecked: 0 };
      figures[name] = counts;

      await fc.assert(
        fc.asyncProperty(fc.commands(commandArbs(encrypted), { maxCommands: MAX_COMMANDS, size: 'max' }), async (commands) => {
          await db.dataSource.createQueryBuilder().delete().from(OAuth).execute();
          await clearCache();
          const model: Model = { rows: new Map(), writes: encrypted ? 'current-key' : 'plain' };
          real.steps.count = 0;
          await fc.asyncModelRun(() => ({ model, real }), commands);
          counts.sequences++;
          counts.calls += real.steps.count;
          counts.rowsChecked += await compareTable(model, uncached);
        }),
        { numRuns: RUNS },
      );
    }

    /** The table holds exactly the model's rows, one per key, each encoded as the model says. */
    async function compareTable(model: Model, uncached: TypeOrmStorage<User>): Promise<number> {
      const nameOf = new Map(USER_NAMES.map((name) => [users[name].id, name]));
      const rows = await db.dataSource.getRepository(OAuth).find();
      const keys = rows.map((row) => rowKey(row.provider, row.userId === null ? 'app' : nameOf.get(row.userId)!));
      expect([...keys].sort()).toEqual([...model.rows.keys()].sort()); // also: no key twice
      for (const [i, row] of rows.entries()) {
        const expected = model.rows.get(keys[i])!;
        if (expected.encoding === 'plain') {
          expect(row.token).toEqual(expected.token);
        } else {
          expect(Object.keys(row.token).sort()).toEqual(['alg', 'ct', 'iv', 'kid', 'tag']);
          expect(row.token.kid).toBe(KEY_IDS[expected.encoding]);
        }
        const [, owner] = JSON.parse(keys[i]) as [string, Owner];
        expect(await uncached.get(row.provider, owner === 'app' ? {} : { user: users[owner] })).toEqual(expected.token);
      }
      return rows.length;
    }

    for (const encrypted of [false, true]) {
      const label = encrypted ? 'encrypted' : 'plaintext';

      it(`matches the model without a cache, ${label}`, async () => {
        await check(`no cache, ${label}`, undefined, async () => {}, encrypted);
      }, 120_000);

      it(`matches the model with an in-process cache, ${label}`, async () => {
        const cache = mapCache();
        await check(`in-process cache, ${label}`, cache, async () => cache.clear(), encrypted);
      }, 120_000);

      describeWith(redisUp)('with Keyv on Redis', () => {
        let keyv: Keyv;
        beforeAll(() => {
          keyv = new Keyv({
            store: new KeyvRedis(REDIS_URL),
            namespace: `oauth-model-${kind.name}-${label}-${process.pid}-${randomBytes(4).toString('hex')}`,
          });
        });
        afterAll(async () => {
          await keyv?.clear();
          await keyv?.disconnect();
        });

        it(`matches the model with Keyv on Redis, ${label}`, async () => {
          await check(`Keyv on Redis, ${label}`, keyv, () => keyv.clear(), encrypted);
        }, 120_000);
      });
    }
  });
}
