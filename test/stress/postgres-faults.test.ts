import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { inspect } from 'node:util';
import { Client } from 'pg';
import { QueryFailedError } from 'typeorm';
import { TypeOrmStorage } from '../../src';
import { postgres, type TestDatabase } from '../support/databases';
import { reportFigures } from '../support/figures';
import { OAuth, User } from '../support/models';
import { DATABASE_URL, describeWith, postgresUp } from '../support/services';
import { finalValues, staleReads, type Call, type Write } from './history';
import { tokenFor, valueOf } from './load-worker';

const ROUNDS = 12;
const CALLERS = 16;
const CALLS_PER_ROUND = 8;
const PROVIDERS = ['github', 'google'];

interface Recorded {
  key: number;
  kind: 'get' | 'set' | 'delete';
  value: string | null;
  start: bigint;
  ack: bigint;
  error?: unknown;
}

describeWith(postgresUp)('PostgreSQL connections killed mid-run', () => {
  // Only connections with this name are ever terminated: the storage's own, never anyone else's.
  const applicationName = `oauth-stress-kill-${process.pid}-${randomBytes(4).toString('hex')}`;
  let db: TestDatabase;
  let admin: Client;
  const figures: Record<string, unknown> = {};

  beforeAll(async () => {
    db = await postgres.create({ options: { applicationName } });
    admin = new Client({ connectionString: DATABASE_URL, application_name: 'oauth-stress-killer' });
    await admin.connect();
  });
  afterAll(async () => {
    await admin?.end();
    await db?.destroy();
    reportFigures('stress-postgres-faults', figures);
  });

  /** Terminates every backend of the DataSource under test; resolves to how many it ended. */
  async function killConnections(): Promise<number> {
    const { rows } = await admin.query<{ killed: boolean }>(
      'SELECT pg_terminate_backend(pid) AS killed FROM pg_stat_activity WHERE application_name = $1',
      [applicationName],
    );
    return rows.filter((row) => row.killed).length;
  }

  it('fails the calls in flight with a clear error, then serves again, with no partial or duplicate rows', async () => {
    const users = await db.dataSource.getRepository(User).save([1, 2, 3, 4].map((i) => ({ name: `user${i}` })));
    const keys = PROVIDERS.flatMap((provider) => [null, ...users.map((u) => u.id)].map((userId) => ({ provider, userId })));
    const storage = new TypeOrmStorage(db.dataSource, OAuth, { userRequired: false });
    const records: Recorded[] = [];
    let written = 0;
    let settled = 0;
    let onSettled = () => {};

    async function call(key: number, kind: Recorded['kind']): Promise<void> {
      const { provider, userId } = keys[key];
      const scope = userId === null ? undefined : { userId };
      const value = kind === 'set' ? String(written++) : null;
      const start = process.hrtime.bigint();
      try {
        let result = value;
        if (kind === 'get') result = valueOf(await storage.get(provider, scope));
        else if (kind === 'set') await storage.set(provider, tokenFor(value!), scope);
        else await storage.delete(provider, scope);
        records.push({ key, kind, value: result, start, ack: process.hrtime.bigint() });
      } catch (error) {
        records.push({ key, kind, value, start, ack: process.hrtime.bigint(), error });
      } finally {
        settled++;
        onSettled();
      }
    }

    // Each round starts a burst of calls and kills the connections once a few have settled, so others are in flight.
    let killed = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const burst = Promise.all(
        Array.from({ length: CALLERS }, async () => {
          for (let n = 0; n < CALLS_PER_ROUND; n++) {
            const dice = Math.random();
            await call(Math.floor(Math.random() * keys.length), dice < 0.4 ? 'get' : dice < 0.85 ? 'set' : 'delete');
          }
        }),
      );
      const target = settled + CALLERS;
      await new Promise<void>((resolve) => {
        onSettled = () => settled >= target && resolve();
      });
      killed += await killConnections();
      await burst;
    }
    // Let the pool see the last terminated connections close before the checks below use it.
    await sleep(200);

    const failed = records.filter((r) => r.error !== undefined);
    expect(killed).toBeGreaterThan(0);
    expect(failed.length).toBeGreaterThan(0);
    for (const { error } of failed) {
      expect(error).toBeInstanceOf(QueryFailedError);
      expect((error as Error).message).toMatch(/\w/);
      expect(`${(error as Error).message}\n${inspect(error, { depth: 10 })}`).not.toContain('secret-');
    }

    // Reads saw no replaced token; a failed write may or may not have taken effect, but nothing else happened.
    const stale: Call[] = [];
    const possibleFinal = keys.map((_, key) => {
      const calls = records.filter((r) => r.key === key);
      const writes: Write[] = calls.filter((r) => r.kind !== 'get').map((r) => ({ ...r, acknowledged: r.error === undefined }));
      stale.push(...staleReads(writes, calls.filter((r) => r.kind === 'get' && r.error === undefined)));
      return finalValues(writes);
    });
    expect(stale).toEqual([]);

    // One row per key at most, each a whole token some write stored, and one the history allows.
    const q = (name: string) => db.dataSource.driver.escape(name);
    const rows: Array<{ provider: string; userId: number | null; token: string }> = await db.dataSource.query(
      `SELECT ${q('provider')} AS "provider", ${q('userId')} AS "userId", ${q('token')}::text AS "token" FROM ${q('o_auth')}`,
    );
    const keyOf = (row: { provider: string; userId: number | null }) =>
      keys.findIndex((k) => k.provider === row.provider && k.userId === row.userId);
    expect(new Set(rows.map(keyOf)).size).toBe(rows.length);
    for (const row of rows) expect(possibleFinal[keyOf(row)]).toContain(valueOf(JSON.parse(row.token)));
    for (const [key] of keys.entries()) {
      if (!rows.some((row) => keyOf(row) === key)) expect(possibleFinal[key]).toContain(null);
    }

    // Later calls succeed.
    for (const [key, { provider, userId }] of keys.entries()) {
      const scope = userId === null ? undefined : { userId };
      await storage.set(provider, tokenFor(`after-${key}`), scope);
      expect(await storage.get(provider, scope)).toEqual(tokenFor(`after-${key}`));
    }
    expect(await db.dataSource.getRepository(OAuth).count()).toBe(keys.length);

    Object.assign(figures, {
      calls: records.length,
      failedInFlight: failed.length,
      killRounds: ROUNDS,
      connectionsKilled: killed,
      rowsChecked: rows.length,
      callsAfter: keys.length * 2,
      errors: [...new Set(failed.map((r) => (r.error as Error).message))],
    });
  }, 60_000);
});
