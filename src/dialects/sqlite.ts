import type { Database, Statement as SqliteStatement } from 'better-sqlite3';
import type { DataSource } from 'typeorm';
import type { BetterSqlite3Driver } from 'typeorm/driver/better-sqlite3/BetterSqlite3Driver';
import { runLogged } from '../internal/query-log';
import type { Statement } from '../internal/statement';
import type { Dialect, Executor } from './dialect';

export const sqliteDialect: Dialect = {
  placeholder: () => '?',
  // TypeORM stores `jsonb` columns as SQLite's binary JSONB; json() reads both
  // that and plain JSON text, so rows written either way are readable.
  tokenValue: (placeholder) => `jsonb(${placeholder})`,
  tokenText: (column) => `json(${column})`,
  // The format TypeORM's own date columns use on SQLite.
  now: "datetime('now')",
  // No row locks in SQLite; refreshes there write with compare-and-set instead.
  forUpdate: '',
  refreshInTransaction: false,
  executor: (dataSource) => new SqliteExecutor(dataSource),
};

/**
 * Statements prepared once on the DataSource's better-sqlite3 connection and
 * kept. SQLite has one connection per DataSource, so statements run inside
 * whatever transaction the app has open on it; a manager adds nothing here.
 */
class SqliteExecutor implements Executor {
  readonly #dataSource: DataSource;
  readonly #prepared = new Map<Statement, SqliteStatement>();
  #connection: Database | null = null;

  constructor(dataSource: DataSource) {
    this.#dataSource = dataSource;
  }

  readToken(statement: Statement, params: readonly unknown[]): Promise<string | undefined> {
    return runLogged(this.#dataSource, statement, params, () => {
      const row = this.#prepare(statement).get(...params) as { token: string } | undefined;
      return row?.token;
    });
  }

  readRows<Row>(statement: Statement, params: readonly unknown[]): Promise<Row[]> {
    return runLogged(this.#dataSource, statement, params, () => this.#prepare(statement).all(...params) as Row[]);
  }

  write(statement: Statement, params: readonly unknown[]): Promise<number> {
    return runLogged(this.#dataSource, statement, params, () => this.#prepare(statement).run(...params).changes);
  }

  #prepare(statement: Statement): SqliteStatement {
    const connection = (this.#dataSource.driver as BetterSqlite3Driver).databaseConnection as Database;
    if (connection !== this.#connection) {
      // The DataSource was destroyed and initialized again: old statements belong to a closed connection.
      this.#prepared.clear();
      this.#connection = connection;
    }
    let prepared = this.#prepared.get(statement);
    if (!prepared) {
      prepared = connection.prepare(statement.text);
      this.#prepared.set(statement, prepared);
    }
    return prepared;
  }
}
