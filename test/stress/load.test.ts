import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import Keyv from 'keyv';
import KeyvRedis from '@keyv/redis';
import { TypeOrmStorage } from '../../src';
import { postgres, type TestDatabase } from '../support/databases';
import { reportFigures } from '../support/figures';
import { OAuth, User } from '../support/models';
import { DATABASE_URL, describeWith, postgresUp, REDIS_URL, redisUp } from '../support/services';
import { finalValues, staleReads, type Write } from './history';
import { tokenFor, valueOf, type CallRecord, type LoadConfig } from './load-worker';
import { forkTs, kill } from './processes';

const WORKERS = 4;
const CALLERS = 32;
const CALLS_PER_CALLER = 100;
const FINAL_READS = 4;
const PROVIDERS = ['github', 'google', 'gitlab', "gh'; DROP TABLE x;--"];
const USERS = 6;

/** Waits for the first message from `child` that has `key`; fails if the child reports a failure or exits first. */
function message<T>(child: ChildProcess, key: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMessage = (received: Record<string, unknown>) => {
      if (received.failed) finish(() => reject(new Error(`worker failed: ${received.failed}`)));
      else if (key in received) finish(() => resolve(received as T));
    };
    const onExit = (code: number | null) => finish(() => reject(new Error(`worker exited (${code}) before sending ${key}`)));
    const finish = (settle: () => void) => {
      child.off('message', onMessage);
      child.off('exit', onExit);
      settle();
    };
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

describeWith(postgresUp && redisUp)(`load: ${WORKERS} processes × ${CALLERS} callers on PostgreSQL with a Redis cache`, () => {
  let db: TestDatabase;
  let keyv: Keyv;
  const children: ChildProcess[] = [];
  const namespace = `oauth-stress-load-${randomBytes(4).toString('hex')}`;
  const encryptionKey = randomBytes(32).toString('base64');
  const figures: Record<string, number> = {};

  beforeAll(async () => {
    db = await postgres.create({ options: { applicationName: `oauth-stress-load-${process.pid}` } });
    keyv = new Keyv({ store: new KeyvRedis(REDIS_URL), namespace });
  });
  afterAll(async () => {
    await Promise.all(children.map(kill));
    await keyv?.clear();
    await keyv?.disconnect();
    await db?.destroy();
    reportFigures('stress-load', figures);
  });

  it('gives every caller the latest write, leaves one row per key and the last acknowledged write in it', async () => {
    const users = await db.dataSource.getRepository(User).save(Array.from({ length: USERS }, (_, i) => ({ name: `user${i}` })));
    const keys = PROVIDERS.flatMap((provider) => [null, ...users.map((u) => u.id)].map((userId) => ({ provider, userId })));
    for (let worker = 0; worker < WORKERS; worker++) {
      const config: LoadConfig = {
        worker,
        workers: WORKERS,
        callers: CALLERS,
        callsPerCaller: CALLS_PER_CALLER,
        finalReads: FINAL_READS,
        keys,
        databaseUrl: DATABASE_URL,
        schema: (db.dataSource.options as { schema?: string }).schema!,
        applicationName: `oauth-stress-load-worker-${process.pid}`,
        redisUrl: REDIS_URL,
        namespace,
        encryptionKey,
      };
      children.push(forkTs(join(__dirname, 'load-worker.ts'), { STRESS_CONFIG: JSON.stringify(config) }));
    }
    const all = <T>(key: string) => Promise.all(children.map((child) => message<T>(child, key)));
    await all('ready');
    for (const phase of ['mixed', 'final'] as const) {
      const done = all('done');
      for (const child of children) child.send({ run: phase });
      await done; // every call of the phase has settled in every process before the next phase starts
    }
    const reports = all<{ records: CallRecord[]; warnings: number }>('records');
    for (const child of children) child.send({ stop: true });
    const records = (await reports).flatMap((report) => report.records);
    const warnings = (await reports).reduce((sum, report) => sum + report.warnings, 0);

    const failed = records.filter((r) => r.error);
    expect(failed.slice(0, 5)).toEqual([]);
    expect(warnings).toBe(0); // not one cache call failed or timed out

    // Every read returned a token some write stored, and none that a finished write had replaced.
    const stale: unknown[] = [];
    const expectedFinal: Array<string | null> = [];
    keys.forEach((_, key) => {
      const calls = records.filter((r) => r.key === key).map((r) => ({ ...r, start: BigInt(r.start), ack: BigInt(r.ack) }));
      const writes: Write[] = calls.filter((r) => r.kind !== 'get').map((r) => ({ ...r, acknowledged: true }));
      stale.push(...staleReads(writes, calls.filter((r) => r.kind === 'get')).map((r) => ({ key, ...r })));
      const final = [...finalValues(writes)];
      expect(final).toHaveLength(1); // the final phase gave each key one write that no other overlaps
      expectedFinal.push(final[0]);
    });
    expect(stale.slice(0, 5)).toEqual([]);

    // Exactly one row per key that ends with a token, none for the others.
    const q = (name: string) => db.dataSource.driver.escape(name);
    const rows: Array<{ provider: string; userId: number | null; count: string }> = await db.dataSource.query(
      `SELECT ${q('provider')} AS "provider", ${q('userId')} AS "userId", count(*) AS "count" FROM ${q('o_auth')} ` +
        `GROUP BY ${q('provider')}, ${q('userId')}`,
    );
    expect(rows.filter((row) => Number(row.count) !== 1)).toEqual([]);
    const present = (provider: string, userId: number | null) => rows.some((r) => r.provider === provider && r.userId === userId);
    expect(keys.filter(({ provider, userId }, key) => present(provider, userId) !== (expectedFinal[key] !== null))).toEqual([]);

    // Each row holds the last acknowledged write, read through the shared cache and straight from the table.
    const encryption = { keys: { k1: encryptionKey }, current: 'k1' };
    const cached = new TypeOrmStorage(db.dataSource, OAuth, { userRequired: false, cache: keyv, encryption });
    const uncached = new TypeOrmStorage(db.dataSource, OAuth, { userRequired: false, encryption });
    for (const [key, { provider, userId }] of keys.entries()) {
      const scope = userId === null ? undefined : { userId };
      const expected = expectedFinal[key] === null ? null : tokenFor(expectedFinal[key]!);
      expect(await cached.get(provider, scope)).toEqual(expected);
      expect(await uncached.get(provider, scope)).toEqual(expected);
      expect(valueOf(await cached.get(provider, scope))).toBe(expectedFinal[key]);
    }

    Object.assign(figures, {
      processes: WORKERS,
      callersPerProcess: CALLERS,
      keys: keys.length,
      calls: records.length,
      reads: records.filter((r) => r.kind === 'get').length,
      writes: records.filter((r) => r.kind !== 'get').length,
      errors: failed.length,
      cacheFailures: warnings,
      staleReads: stale.length,
      rowsChecked: rows.length,
    });
  }, 120_000);
});
