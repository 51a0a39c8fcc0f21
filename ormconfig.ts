import 'reflect-metadata';
import { join } from 'node:path';
import { DataSource, type DataSourceOptions } from 'typeorm';
import { OAuth } from './examples/entities/oauth.entity';
import { User } from './examples/entities/user.entity';

/**
 * The example schema (a User and an OAuth model) as the TypeORM CLI sees it:
 * `npm run migration:run` and `npm run migration:generate` use this file.
 * PostgreSQL when DATABASE_URL is set, else a SQLite file under data/.
 */
const common = {
  entities: [User, OAuth],
  migrations: [join(__dirname, 'migrations', '*.{ts,js}')],
  synchronize: false,
};

export function exampleDataSourceOptions(env: NodeJS.ProcessEnv = process.env): DataSourceOptions {
  return env.DATABASE_URL
    ? { type: 'postgres', url: env.DATABASE_URL, ...common }
    : { type: 'better-sqlite3', database: env.SQLITE_PATH ?? join(__dirname, 'data', 'app.sqlite'), ...common };
}

export default new DataSource(exampleDataSourceOptions());
