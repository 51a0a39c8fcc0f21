import { join, relative } from 'node:path';
import { DataSource, type DataSourceOptions } from 'typeorm';
import { exampleDataSourceOptions } from '../../ormconfig';
import type { DemoConfig } from './config';

/**
 * The example schema (User, OAuth) on PostgreSQL when DATABASE_URL is set,
 * else on `app.sqlite` in the data directory, migrated to the latest version
 * before the app serves anything.
 */
export async function openDatabase(config: DemoConfig): Promise<DataSource> {
  const options = exampleDataSourceOptions({ DATABASE_URL: config.databaseUrl, SQLITE_PATH: join(config.dataDir, 'app.sqlite') });
  const dataSource = new DataSource({ ...withSqliteTuning(options), migrationsRun: true });
  await dataSource.initialize();
  return dataSource;
}

/**
 * WAL lets readers go on while a token is written, and the busy timeout makes
 * a writer wait for a lock instead of failing at once with SQLITE_BUSY.
 */
function withSqliteTuning(options: DataSourceOptions): DataSourceOptions {
  return options.type === 'better-sqlite3' ? { ...options, enableWAL: true, timeout: 5000 } : options;
}

/** What the page names as the token database: never the URL, which may hold a password. */
export function describeDatabase(dataSource: DataSource): string {
  const { options } = dataSource;
  if (options.type !== 'better-sqlite3') return 'PostgreSQL (DATABASE_URL)';
  const path = relative(process.cwd(), String(options.database));
  return `SQLite (${path.startsWith('..') ? options.database : path})`;
}
