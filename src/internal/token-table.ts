import type { DataSource, EntityMetadata, EntityTarget } from 'typeorm';
import type { ColumnMetadata } from 'typeorm/metadata/ColumnMetadata';
import type { UserId } from '../types';
import { dialectFor, type Dialect, type Executor } from '../dialects/dialect';
import { InvalidUserError, OAuthStorageError } from '../errors';
import { statement, type Statement } from './statement';

/** SQL for one kind of owner (a user's rows, or the app-wide row), built once. */
export interface OwnerStatements {
  /** Params: provider[, userId]. Returns rows with a `token` JSON text column. */
  readonly get: Statement;
  /** `get` that also locks the row until the transaction ends, where the database can (PostgreSQL). */
  readonly getForUpdate: Statement;
  /** Params: provider[, userId], token JSON text, expiresAt. One upsert statement. */
  readonly set: Statement;
  /** Params: provider[, userId]. */
  readonly delete: Statement;
  /** Params: new token JSON text, expiresAt, provider[, userId], token text as read: writes only if unchanged since. */
  readonly replaceIfUnchanged: Statement;
  /** Params: provider[, userId], token text as read: deletes only if unchanged since. */
  readonly deleteIfUnchanged: Statement;
}

/** Everything the storage needs to know about a token model, read from TypeORM metadata once. */
export interface TokenTable {
  readonly name: string;
  /**
   * Prefix of this table's cache keys: two models sharing one cache must not
   * read each other's tokens. The table's path, not a hash of the connection:
   * every process sharing the database must agree on the keys, however each
   * one spells its connection URL.
   */
  readonly cacheNamespace: string;
  readonly executor: Executor;
  /** See {@link Dialect.refreshInTransaction}. */
  readonly refreshInTransaction: boolean;
  /** The user relation's property on the user object that holds its id, or null for a model without users. */
  readonly userIdProperty: string | null;
  /** One spelling per user id, as the user column's type sees ids: see {@link canonicalUserId}. */
  readonly canonicalUserId: (id: UserId) => UserId;
  readonly userStatements: OwnerStatements | null;
  readonly appStatements: OwnerStatements;
  /** Params: last id seen, batch size. Rows `{ id, provider, owner, token }` in id order, for key rotation. */
  readonly scan: Statement;
  /** Params: new token JSON text, id, the token text as scanned: replaces it only if nobody changed it since. */
  readonly replace: Statement;
  /** Params: expires before (seconds), limit. Rows `{ provider, userId, expiresAt }`, soonest first. */
  readonly expiring: Statement;
  /** Params: expires before (seconds), provider, limit. */
  readonly expiringForProvider: Statement;
}

export function readTokenTable(dataSource: DataSource, model: EntityTarget<unknown>): TokenTable {
  if (!dataSource.isInitialized) {
    throw new OAuthStorageError('The DataSource is not initialized: call dataSource.initialize() before using the storage');
  }
  const dialect = dialectFor(dataSource);
  const executor = dialect.executor(dataSource);
  const metadata = dataSource.getMetadata(model);
  const escape = (name: string) => dataSource.driver.escape(name);
  const column = (property: string) => escape(requireColumn(metadata, property));
  const table = metadata.schema ? `${escape(metadata.schema)}.${escape(metadata.tableName)}` : escape(metadata.tableName);

  const provider = column('provider');
  const token = column('token');
  const expiresAt = column('expiresAt');
  const updatedAt = metadata.updateDateColumn ? escape(metadata.updateDateColumn.databaseName) : null;
  const userRelation = metadata.relations.find((r) => r.propertyName === 'user');
  const userJoin = userRelation?.joinColumns[0];
  if (userRelation && (!userJoin || userRelation.joinColumns.length !== 1)) {
    throw new OAuthStorageError(
      `${metadata.name}.user must be a many-to-one relation with a single join column (@ManyToOne + @JoinColumn)`,
    );
  }

  const p = dialect.placeholder;
  const assignments = [
    `${token} = excluded.${token}`,
    `${expiresAt} = excluded.${expiresAt}`,
    ...(updatedAt ? [`${updatedAt} = ${dialect.now}`] : []),
  ].join(', ');
  // ownerFilter(n) filters by owner, its parameter (if any) being the n-th; null: a model without users,
  // where every row is app-wide. SQLite placeholders are positional, so parameters are numbered in the
  // order they appear in each statement.
  const build = (
    ownerFilter: ((n: number) => string) | null,
    insertColumns: string[],
    insertValues: string[],
    conflict: string,
  ): OwnerStatements => {
    const whereFrom = (n: number) => `WHERE ${provider} = ${p(n)}${ownerFilter ? ` AND ${ownerFilter(n + 1)}` : ''}`;
    const where = whereFrom(1);
    const tokenParam = insertValues.length + 1;
    const get = `SELECT ${dialect.tokenText(token)} AS "token" FROM ${table} ${where}`;
    return {
      get: statement(get),
      getForUpdate: statement(get + dialect.forUpdate),
      set: statement(
        `INSERT INTO ${table} (${[provider, ...insertColumns, token, expiresAt].join(', ')}) ` +
          `VALUES (${[p(1), ...insertValues, dialect.tokenValue(p(tokenParam + 1)), p(tokenParam + 2)].join(', ')}) ` +
          `ON CONFLICT ${conflict} DO UPDATE SET ${assignments}`,
        [tokenParam],
      ),
      delete: statement(`DELETE FROM ${table} ${where}`),
      replaceIfUnchanged: statement(
        `UPDATE ${table} SET ${token} = ${dialect.tokenValue(p(1))}, ${expiresAt} = ${p(2)}` +
          `${updatedAt ? `, ${updatedAt} = ${dialect.now}` : ''} ${whereFrom(3)} AND ${dialect.tokenText(token)} = ${p(tokenParam + 3)}`,
        [0, tokenParam + 2],
      ),
      deleteIfUnchanged: statement(`DELETE FROM ${table} ${where} AND ${dialect.tokenText(token)} = ${p(tokenParam + 1)}`, [
        tokenParam,
      ]),
    };
  };

  const user = userJoin ? escape(userJoin.databaseName) : null;
  const id = escape(metadata.primaryColumns[0].databaseName);
  const expiringQuery = (byProvider: boolean) =>
    `SELECT ${provider} AS "provider", ${user ?? 'NULL'} AS "userId", ${expiresAt} AS "expiresAt" FROM ${table} ` +
    `WHERE ${expiresAt} <= ${p(1)}${byProvider ? ` AND ${provider} = ${p(2)}` : ''} ` +
    `ORDER BY ${expiresAt}, ${id} LIMIT ${p(byProvider ? 3 : 2)}`;
  const common = {
    name: metadata.name,
    cacheNamespace: `oauth-token:${metadata.tablePath}:`,
    executor,
    refreshInTransaction: dialect.refreshInTransaction,
    scan: statement(
      `SELECT ${id} AS "id", ${provider} AS "provider", ${user ?? 'NULL'} AS "owner", ${dialect.tokenText(token)} AS "token" ` +
        `FROM ${table} WHERE ${id} > ${p(1)} ORDER BY ${id} LIMIT ${p(2)}`,
    ),
    replace: statement(
      `UPDATE ${table} SET ${token} = ${dialect.tokenValue(p(1))} WHERE ${id} = ${p(2)} AND ${dialect.tokenText(token)} = ${p(3)}`,
      [0, 2],
    ),
    expiring: statement(expiringQuery(false)),
    expiringForProvider: statement(expiringQuery(true)),
  };

  if (!userJoin || !user) {
    return {
      ...common,
      userIdProperty: null,
      canonicalUserId: (id) => id,
      userStatements: null,
      appStatements: build(null, [], [], `(${provider})`),
    };
  }

  return {
    ...common,
    userIdProperty: userJoin.referencedColumn!.propertyName,
    canonicalUserId: canonicalUserId(userJoin.referencedColumn!),
    userStatements: build((n) => `${user} = ${p(n)}`, [user], [p(2)], `(${provider}, ${user})`),
    // The conflict target repeats the partial index's predicate so the database
    // picks the app-wide unique index (see entities/owner-indexes.ts).
    appStatements: build(() => `${user} IS NULL`, [], [], `(${provider}) WHERE ${user} IS NULL`),
  };
}

function requireColumn(metadata: EntityMetadata, property: string): string {
  const found = metadata.findColumnWithPropertyName(property);
  if (!found) {
    throw new OAuthStorageError(`${metadata.name} has no "${property}" column: extend OAuthConsumerEntity`);
  }
  return found.databaseName;
}

const INTEGER_TYPES = new Set<unknown>([Number, 'int', 'integer', 'int2', 'int4', 'int8', 'smallint', 'bigint', 'tinyint', 'mediumint']);

/**
 * The database finds user 1's row for `1`, `"1"` and `"01"` alike, and a uuid
 * column ignores case; the cache key, the ciphertext's binding and the refresh
 * lock are strings, so each id is brought to one spelling first. Ids the
 * column cannot hold are refused here, before any SQL.
 */
function canonicalUserId(column: ColumnMetadata): (id: UserId) => UserId {
  if (INTEGER_TYPES.has(column.type)) {
    return (id) => {
      if (typeof id === 'number' && Number.isSafeInteger(id)) return id;
      if (typeof id === 'string' && /^[+-]?\d+$/.test(id.trim())) {
        const big = BigInt(id.trim());
        return big >= BigInt(Number.MIN_SAFE_INTEGER) && big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big.toString();
      }
      throw new InvalidUserError(`user ids of ${column.entityMetadata.name} are integers`);
    };
  }
  if (column.type === 'uuid' || column.generationStrategy === 'uuid') {
    return (id) => {
      if (typeof id === 'string') return id.toLowerCase();
      throw new InvalidUserError(`user ids of ${column.entityMetadata.name} are uuids`);
    };
  }
  return (id) => String(id);
}
