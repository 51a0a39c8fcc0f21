import { randomBytes } from 'node:crypto';
import { Client, Pool } from 'pg';
import { DataSource } from 'typeorm';
import { OAuth } from '../examples/entities/oauth.entity';
import { User } from '../examples/entities/user.entity';
import { DATABASE_URL } from '../test/support/services';
import { expiresAtOf, PROVIDERS, storageContender, tableNames, TOKEN, type Contender, type TableNames } from './contenders';
import { CountingLogger } from './counting-logger';
import { compareLatency, compareThroughput, type Latency } from './measure';
import type { Profile } from './options';
import { createHeldSchema, dropAbandonedSchemas } from './postgres-schemas';
import { progress } from './progress';

/** Users created up front: enough for the 32 concurrent callers, and one row each in the 1,000-row table. */
const USERS = 1_000;

/** The benchmark's own PostgreSQL schema, its DataSource, and a raw `pg` pool of the same size. */
export interface PostgresBench {
  readonly dataSource: DataSource;
  readonly logger: CountingLogger;
  readonly pool: Pool;
  readonly poolSize: number;
  readonly names: TableNames;
  readonly userIds: readonly number[];
  readonly serverVersion: string;
  /** Closes both pools and drops the schema. */
  close(): Promise<void>;
}

export async function openPostgres(): Promise<PostgresBench> {
  const schema = `oauth_bench_${randomBytes(6).toString('hex')}`;
  const admin = new Client({ connectionString: DATABASE_URL, connectionTimeoutMillis: 3000 });
  try {
    await admin.connect();
  } catch (error) {
    throw new Error(
      `PostgreSQL is not reachable at ${DATABASE_URL.replace(/\/\/[^@/]*@/, '//')} (${(error as Error).message}); ` +
        'start it or set DATABASE_URL',
    );
  }
  await dropAbandonedSchemas(admin);
  await createHeldSchema(admin, schema);
  progress(`PostgreSQL schema ${schema} created`);
  const logger = new CountingLogger();
  const dataSource = new DataSource({
    type: 'postgres',
    url: DATABASE_URL,
    schema,
    entities: [User, OAuth],
    synchronize: true,
    logger,
  });
  let pool: Pool | undefined;
  const close = async () => {
    if (dataSource.isInitialized) await dataSource.destroy();
    await pool?.end();
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await admin.end();
    progress(`PostgreSQL schema ${schema} dropped`);
  };
  try {
    await dataSource.initialize();
    // The DataSource's own pg pool, so the raw pool gets exactly its size.
    const poolSize: number = (dataSource.driver as unknown as { master: { options: { max: number } } }).master.options.max;
    pool = new Pool({ connectionString: DATABASE_URL, max: poolSize });
    const names = tableNames(dataSource);
    const inserted: Array<{ id: number }> = await dataSource.query(
      `INSERT INTO ${names.users} ("name") SELECT 'bench-user-' || i FROM generate_series(1, ${USERS}) i RETURNING "id"`,
    );
    const [{ server_version: serverVersion }] = await dataSource.query('SHOW server_version');
    return {
      dataSource,
      logger,
      pool,
      poolSize,
      names,
      userIds: inserted.map((row) => row.id).sort((a, b) => a - b),
      serverVersion,
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

/**
 * The same SQL the storage needs, as named prepared statements on a `pg`
 * pool: parsed and planned once per connection, then only bound and run. The
 * token is read as text and parsed once, as the storage does.
 */
export function rawPostgres(pool: Pool, names: TableNames): Contender {
  const { table, provider, userId, token, updatedAt, expiresAt } = names;
  const where = `WHERE ${provider} = $1 AND ${userId} = $2`;
  const get = { name: 'bench-get', text: `SELECT ${token}::text AS token FROM ${table} ${where}` };
  const written = expiresAt ? [token, expiresAt] : [token];
  const set = {
    name: 'bench-set',
    text:
      `INSERT INTO ${table} (${provider}, ${userId}, ${written.join(', ')}) VALUES ($1, $2, $3::jsonb${expiresAt ? ', $4' : ''}) ` +
      `ON CONFLICT (${provider}, ${userId}) DO UPDATE SET ${written.map((c) => `${c} = excluded.${c}`).join(', ')}, ` +
      `${updatedAt} = CURRENT_TIMESTAMP`,
  };
  const remove = { name: 'bench-delete', text: `DELETE FROM ${table} ${where}` };
  return {
    async get(providerName, id) {
      const { rows } = await pool.query<{ token: string }>({ ...get, values: [providerName, id] });
      return rows.length === 0 ? null : JSON.parse(rows[0].token);
    },
    async set(providerName, id, value) {
      const values = [providerName, id, JSON.stringify(value)];
      await pool.query({ ...set, values: expiresAt ? [...values, expiresAtOf(value)] : values });
    },
    async delete(providerName, id) {
      await pool.query({ ...remove, values: [providerName, id] });
    },
  };
}

/**
 * Throughput of 32 callers, each reading its own user's token, through the
 * storage (the DataSource's pool) and through the raw pool of the same size.
 */
export async function measureConcurrent(pg: PostgresBench, storage: Contender, raw: Contender, profile: Profile) {
  const callers = 32;
  const users = pg.userIds.slice(0, callers);
  for (const user of users) await raw.set(PROVIDERS.hit, user, TOKEN);
  return compareThroughput(
    {
      storage: (caller) => storage.get(PROVIDERS.hit, users[caller]),
      raw: (caller) => raw.get(PROVIDERS.hit, users[caller]),
    },
    callers,
    profile,
  );
}

export interface TableSizeResult {
  readonly rows1k: Latency;
  readonly big: Latency;
  readonly bigRows: number;
  /** How PostgreSQL finds a token in each table, e.g. `Index Scan using IDX_...`. */
  readonly plans: readonly [string, string];
}

/**
 * `get` latency with 1,000 rows in the table and with `profile.bigTableRows`,
 * in two schemas of their own measured in the same rounds (so drift hits
 * both alike). Both look up the same 1,000 rows in turn (one per user,
 * provider `github`), so the working set is the same and only the table and
 * its indexes differ: the difference is what the index lookup costs at that
 * size. The big table's other rows belong to the same users under other
 * provider names, inserted with generate_series.
 */
export async function measureTableSize(small: PostgresBench, big: PostgresBench, profile: Profile): Promise<TableSizeResult> {
  const fill = async (pg: PostgresBench, providersPerUser: number) => {
    const { table, users, provider, userId, token } = pg.names;
    const providers = `SELECT $1::varchar AS name UNION ALL SELECT 'provider-' || p FROM generate_series(2, ${providersPerUser}) p`;
    await pg.dataSource.query(
      `INSERT INTO ${table} (${provider}, ${userId}, ${token}) ` +
        `SELECT providers.name, u."id", $2::jsonb FROM (${providers}) providers CROSS JOIN ${users} u`,
      [PROVIDERS.hit, JSON.stringify(TOKEN)],
    );
    await pg.dataSource.query(`VACUUM ANALYZE ${table}`);
    const [{ count }] = await pg.dataSource.query(`SELECT count(*)::int AS count FROM ${table}`);
    const [{ 'QUERY PLAN': [{ Plan: plan }] }] = await pg.dataSource.query(
      `EXPLAIN (FORMAT JSON) SELECT ${token}::text FROM ${table} WHERE ${provider} = $1 AND ${userId} = $2`,
      [PROVIDERS.hit, pg.userIds[0]],
    );
    const how = plan['Index Name'] ? `${plan['Node Type']} using ${plan['Index Name']}` : plan['Node Type'];
    return { rows: count as number, plan: how as string };
  };
  const lookups = (pg: PostgresBench) => {
    const storage = storageContender(pg.dataSource);
    let next = 0;
    return () => storage.get(PROVIDERS.hit, pg.userIds[next++ % pg.userIds.length]);
  };
  const smallTable = await fill(small, 1);
  const bigTable = await fill(big, Math.round(profile.bigTableRows / big.userIds.length));
  const latency = await compareLatency({ rows1k: lookups(small), big: lookups(big) }, profile);
  return { rows1k: latency.rows1k, big: latency.big, bigRows: bigTable.rows, plans: [smallTable.plan, bigTable.plan] };
}
