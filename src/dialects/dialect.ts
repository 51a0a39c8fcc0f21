import type { DataSource, EntityManager } from 'typeorm';
import { OAuthStorageError } from '../errors';
import type { Statement } from '../internal/statement';
import { postgresDialect } from './postgres';
import { sqliteDialect } from './sqlite';

/** Runs prepared statements on the DataSource's own connections. */
export interface Executor {
  /** The first row's `token` column (JSON text), or undefined when no row matched. */
  readToken(statement: Statement, params: readonly unknown[], manager?: EntityManager): Promise<string | undefined>;
  /** Every row a query returns. */
  readRows<Row>(statement: Statement, params: readonly unknown[]): Promise<Row[]>;
  /** Runs a write; resolves to the number of rows it changed. */
  write(statement: Statement, params: readonly unknown[], manager?: EntityManager): Promise<number>;
}

/**
 * What differs between the databases this package supports: how SQL writes
 * placeholders, JSON and timestamps, and how statements reach the driver.
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
  /** Suffix of a SELECT that locks the rows it reads until the transaction ends. */
  readonly forUpdate: string;
  /**
   * Whether a refresh may hold a transaction open while it waits for the
   * provider. Not on SQLite: its one connection is shared by the whole app,
   * which would find itself inside that transaction.
   */
  readonly refreshInTransaction: boolean;
  executor(dataSource: DataSource): Executor;
}

export function dialectFor(dataSource: DataSource): Dialect {
  switch (dataSource.options.type) {
    case 'postgres':
      return postgresDialect;
    case 'better-sqlite3':
      return sqliteDialect;
    default:
      throw new OAuthStorageError(
        `TypeOrmStorage supports PostgreSQL and SQLite (better-sqlite3) DataSources, not "${dataSource.options.type}"`,
      );
  }
}
