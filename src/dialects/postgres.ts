import type { Pool, PoolClient, QueryConfig } from 'pg';
import type { DataSource, EntityManager } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';
import { runLogged } from '../internal/query-log';
import type { Statement } from '../internal/statement';
import type { Dialect, Executor } from './dialect';

export const postgresDialect: Dialect = {
  placeholder: (n) => `$${n}`,
  tokenValue: (placeholder) => `${placeholder}::jsonb`,
  // Text, not jsonb: the token is parsed once by the storage, and the same text goes to the cache.
  tokenText: (column) => `${column}::text`,
  now: 'CURRENT_TIMESTAMP',
  forUpdate: ' FOR UPDATE',
  refreshInTransaction: true,
  executor: (dataSource) => new PostgresExecutor(dataSource),
};

/**
 * Named prepared statements on the DataSource's own pool: PostgreSQL parses and
 * plans each statement once per connection instead of on every call, which
 * TypeORM's `query()` (unnamed statements) cannot do.
 */
class PostgresExecutor implements Executor {
  readonly #dataSource: DataSource;

  constructor(dataSource: DataSource) {
    this.#dataSource = dataSource;
  }

  async readToken(statement: Statement, params: readonly unknown[], manager?: EntityManager): Promise<string | undefined> {
    const result = await this.#run(statement, params, manager);
    return result.rows.length > 0 ? (result.rows[0] as { token: string }).token : undefined;
  }

  async readRows<Row>(statement: Statement, params: readonly unknown[]): Promise<Row[]> {
    return (await this.#run(statement, params, undefined)).rows as Row[];
  }

  async write(statement: Statement, params: readonly unknown[], manager?: EntityManager): Promise<number> {
    return (await this.#run(statement, params, manager)).rowCount ?? 0;
  }

  async #run(statement: Statement, params: readonly unknown[], manager: EntityManager | undefined) {
    const config: QueryConfig = { name: statement.name, text: statement.text, values: params as unknown[] };
    // A manager inside a transaction has its own connection: run there, so the statement joins the transaction.
    const runner = manager?.queryRunner;
    const target: Pool | PoolClient =
      runner && !runner.isReleased ? ((await runner.connect()) as PoolClient) : (this.#dataSource.driver as PostgresDriver).master;
    return runLogged(this.#dataSource, statement, params, () => target.query(config));
  }
}
