import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { DataSource, type DataSourceOptions } from 'typeorm';
import { allModels } from './models';
import { RecordingLogger } from './recording-logger';
import { DATABASE_URL, postgresUp } from './services';

/** A DataSource for one test file, on its own SQLite file or PostgreSQL schema, and how to throw it away. */
export interface TestDatabase {
  readonly dataSource: DataSource;
  readonly logger: RecordingLogger;
  /** Empties every table, so each test starts from nothing. */
  clear(): Promise<void>;
  destroy(): Promise<void>;
}

export interface DatabaseKind {
  readonly name: 'sqlite' | 'postgres';
  readonly up: boolean;
  /**
   * A new, empty database with the test models. `synchronize: false` gives an
   * empty schema for migration tests; `options` override the DataSource's.
   */
  create(options?: { synchronize?: boolean; options?: Partial<DataSourceOptions> }): Promise<TestDatabase>;
}

export const sqlite: DatabaseKind = {
  name: 'sqlite',
  up: true,
  async create({ synchronize = true, options = {} } = {}) {
    const dir = mkdtempSync(join(tmpdir(), 'oauth-storage-'));
    const logger = new RecordingLogger();
    // A file, not :memory:, so several connections (and processes) can share it.
    const dataSource = new DataSource({
      type: 'better-sqlite3',
      database: join(dir, 'test.sqlite'),
      entities: allModels,
      synchronize,
      logger,
      ...options,
    } as DataSourceOptions);
    await dataSource.initialize();
    return finish(dataSource, logger, async () => rmSync(dir, { recursive: true, force: true }));
  },
};

export const postgres: DatabaseKind = {
  name: 'postgres',
  up: postgresUp,
  async create({ synchronize = true, options = {} } = {}) {
    // One schema per test database, so test files can run in parallel on one server.
    const schema = `oauth_test_${randomBytes(6).toString('hex')}`;
    await adminQuery(`CREATE SCHEMA "${schema}"`);
    const logger = new RecordingLogger();
    const dataSource = new DataSource({
      type: 'postgres',
      url: DATABASE_URL,
      schema,
      // Unqualified names in the tests' own SQL resolve to this schema too.
      extra: { options: `-c search_path=${schema}` },
      entities: allModels,
      synchronize,
      logger,
      ...options,
    } as DataSourceOptions);
    await dataSource.initialize();
    return finish(dataSource, logger, () => adminQuery(`DROP SCHEMA "${schema}" CASCADE`));
  },
};

export const databases: readonly DatabaseKind[] = [sqlite, postgres];

function finish(dataSource: DataSource, logger: RecordingLogger, dispose: () => Promise<void>): TestDatabase {
  return {
    dataSource,
    logger,
    async clear() {
      for (const entity of [...dataSource.entityMetadatas].reverse()) {
        await dataSource.createQueryBuilder().delete().from(entity.target).execute();
      }
      logger.reset();
    },
    async destroy() {
      if (dataSource.isInitialized) await dataSource.destroy();
      await dispose();
    },
  };
}

/** Runs one statement on its own connection to the test server (schemas and databases come and go this way). */
export async function adminQuery(sql: string): Promise<void> {
  const client = new Client({ connectionString: DATABASE_URL });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}
