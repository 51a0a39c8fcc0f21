import { deepStrictEqual } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { DataSource } from 'typeorm';
import type { BetterSqlite3DataSourceOptions } from 'typeorm/driver/better-sqlite3/BetterSqlite3DataSourceOptions';
import { OAuth } from '../examples/entities/oauth.entity';
import { User } from '../examples/entities/user.entity';
import { expiresAtOf, tableNames, type Contender, type TableNames } from './contenders';
import { CountingLogger } from './counting-logger';

/**
 * The SQLite settings compared here, as plain data so a writer process can be
 * told which ones to use.
 */
export interface SqliteSetup {
  /** `delete` is SQLite's (and TypeORM's) default rollback journal. */
  readonly journal: 'delete' | 'wal';
  /** `full` is the default; `normal` skips the sync on every WAL commit (durable up to the last checkpoint on power loss). */
  readonly synchronous: 'full' | 'normal';
  /** How long a connection waits for another's lock before SQLITE_BUSY; TypeORM's default is 5000. */
  readonly busyTimeoutMs: number;
}

/** The setup of the main SQLite comparison: what the README recommends for a server app. */
export const SERVER_SETUP: SqliteSetup = { journal: 'wal', synchronous: 'full', busyTimeoutMs: 5000 };

/** A short name for output, e.g. `WAL, synchronous=FULL, busy timeout 5000 ms`. */
export function describeSetup(setup: SqliteSetup): string {
  const journal = setup.journal === 'wal' ? 'WAL' : 'rollback journal';
  return `${journal}, synchronous=${setup.synchronous.toUpperCase()}, busy timeout ${setup.busyTimeoutMs} ms`;
}

/** The TypeORM better-sqlite3 options for a setup. */
function dataSourceSettings(setup: SqliteSetup): Pick<BetterSqlite3DataSourceOptions, 'enableWAL' | 'timeout' | 'prepareDatabase'> {
  return {
    enableWAL: setup.journal === 'wal',
    timeout: setup.busyTimeoutMs,
    prepareDatabase: (db: Database.Database) => void db.pragma(`synchronous = ${setup.synchronous}`),
  };
}

/** A SQLite file in the temp directory with the example schema, its DataSource and users. */
export interface SqliteBench {
  readonly file: string;
  readonly dataSource: DataSource;
  readonly logger: CountingLogger;
  readonly names: TableNames;
  readonly userIds: readonly number[];
  readonly setup: SqliteSetup;
  /** Closes the DataSource and deletes the file. */
  close(): Promise<void>;
}

/** A DataSource on a SQLite file with the example schema; `synchronize` creates the tables. */
export function sqliteDataSource(file: string, setup: SqliteSetup, options: { synchronize: boolean; logger?: CountingLogger }) {
  return new DataSource({ type: 'better-sqlite3', database: file, entities: [User, OAuth], ...options, ...dataSourceSettings(setup) });
}

export async function openSqlite(setup: SqliteSetup, users = 2): Promise<SqliteBench> {
  const dir = mkdtempSync(join(tmpdir(), 'oauth-bench-'));
  const file = join(dir, 'bench.sqlite');
  const logger = new CountingLogger();
  const dataSource = sqliteDataSource(file, setup, { synchronize: true, logger });
  const close = async () => {
    if (dataSource.isInitialized) await dataSource.destroy();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await dataSource.initialize();
    const names = tableNames(dataSource);
    const userIds: number[] = [];
    for (let i = 1; i <= users; i++) {
      const [{ id }] = await dataSource.query(`INSERT INTO ${names.users} ("name") VALUES (?) RETURNING "id"`, [`bench-user-${i}`]);
      userIds.push(id);
    }
    await checkSetup(dataSource, setup);
    return { file, dataSource, logger, names, userIds, setup, close };
  } catch (error) {
    await close();
    throw error;
  }
}

/** Makes sure the connection really runs with the setup's pragmas, so a label never lies. */
async function checkSetup(dataSource: DataSource, setup: SqliteSetup): Promise<void> {
  const [{ journal_mode: journal }] = await dataSource.query('PRAGMA journal_mode');
  const [{ synchronous }] = await dataSource.query('PRAGMA synchronous');
  const [{ timeout }] = await dataSource.query('PRAGMA busy_timeout');
  const actual = { journal, synchronous: ['off', 'normal', 'full', 'extra'][synchronous], busyTimeoutMs: timeout };
  deepStrictEqual(actual, { ...setup }, 'SQLite runs with the pragmas the benchmark asked for');
}

/**
 * The same SQL the storage needs as cached better-sqlite3 prepared statements,
 * on a connection of its own to the same file, with the pragmas TypeORM sets
 * (foreign keys on, so inserts check the user as the storage's do). The token
 * is read back as JSON text and parsed.
 */
export function rawSqlite(sqlite: SqliteBench): { contender: Contender; close(): Promise<void> } {
  const db = new Database(sqlite.file, { timeout: sqlite.setup.busyTimeoutMs });
  db.pragma('foreign_keys = ON');
  db.pragma(`synchronous = ${sqlite.setup.synchronous}`);
  const { table, provider, userId, token, updatedAt, expiresAt } = sqlite.names;
  const where = `WHERE ${provider} = ? AND ${userId} = ?`;
  const get = db.prepare<[string, number], { token: string }>(`SELECT json(${token}) AS token FROM ${table} ${where}`);
  const written = expiresAt ? [token, expiresAt] : [token];
  const set = db.prepare<unknown[]>(
    `INSERT INTO ${table} (${provider}, ${userId}, ${written.join(', ')}) VALUES (?, ?, jsonb(?)${expiresAt ? ', ?' : ''}) ` +
      `ON CONFLICT (${provider}, ${userId}) DO UPDATE SET ${written.map((c) => `${c} = excluded.${c}`).join(', ')}, ` +
      `${updatedAt} = datetime('now')`,
  );
  const remove = db.prepare<[string, number]>(`DELETE FROM ${table} ${where}`);
  return {
    contender: {
      // async: every contender is measured as an async call (see measure.ts).
      async get(providerName, id) {
        const row = get.get(providerName, id);
        return row ? JSON.parse(row.token) : null;
      },
      async set(providerName, id, value) {
        const values = [providerName, id, JSON.stringify(value)];
        set.run(...(expiresAt ? [...values, expiresAtOf(value)] : values));
      },
      async delete(providerName, id) {
        remove.run(providerName, id);
      },
    },
    close: async () => void db.close(),
  };
}
