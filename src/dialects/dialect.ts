import type { DataSource } from 'typeorm';
import { OAuthStorageError } from '../errors';
import { postgresDialect } from './postgres';
import { sqliteDialect } from './sqlite';

/**
 * What differs between the databases this package supports: how SQL writes
 * placeholders, JSON and timestamps. Everything else is shared.
 */
export interface Dialect {
  /** The n-th (1-based) parameter placeholder. */
  placeholder(n: number): string;
  /** Expression that stores a JSON text parameter in the token column. */
  tokenValue(placeholder: string): string;
  /** Expression that reads the token column back as JSON text. */
  tokenText(column: string): string;
  /** The database's current-timestamp expression for `updatedAt`. */
  readonly now: string;
}

export function dialectFor(dataSource: DataSource): Dialect {
  switch (dataSource.options.type) {
    case 'postgres':
      return postgresDialect;
    case 'better-sqlite3':
      return sqliteDialect;
    default:
      throw new OAuthStorageError(
        `TypeOrmStorage supports PostgreSQL and SQLite DataSources, not "${dataSource.options.type}"`,
      );
  }
}
