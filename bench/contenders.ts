import type { DataSource } from 'typeorm';
import { OAuth } from '../examples/entities/oauth.entity';
import { User } from '../examples/entities/user.entity';
import { TypeOrmStorage, type CacheLike, type OAuthToken } from '../src';

/**
 * One way of keeping a user's token: this package, hand-written TypeORM, or
 * the raw driver. Every contender reads and writes the same rows of the same
 * table (the example `OAuth` model) and returns the parsed token.
 */
export interface Contender {
  get(provider: string, userId: number): Promise<OAuthToken | null>;
  set(provider: string, userId: number, token: OAuthToken): Promise<void>;
  delete(provider: string, userId: number): Promise<void>;
}

/** A token shaped like GitHub's, about the size real ones are. */
export const TOKEN: OAuthToken = {
  access_token: 'gho_' + 'x'.repeat(36),
  refresh_token: 'ghr_' + 'y'.repeat(76),
  token_type: 'bearer',
  scope: 'repo,read:user,user:email',
  expires_in: 28800,
  refresh_token_expires_in: 15897600,
  expires_at: 1767225600,
};

/** Provider names: one whose row exists, one that never has a row, one that is inserted and deleted. */
export const PROVIDERS = { hit: 'github', miss: 'gitlab', deleted: 'bitbucket' } as const;

/** This package, called the way the README shows (a per-call `userId`). */
export function storageContender(dataSource: DataSource, cache?: CacheLike): Contender {
  const storage = new TypeOrmStorage(dataSource, OAuth, cache ? { cache } : {});
  return {
    get: (provider, userId) => storage.get(provider, { userId }),
    set: (provider, userId, token) => storage.set(provider, token, { userId }),
    delete: (provider, userId) => storage.delete(provider, { userId }),
  };
}

/** What an app would write with a TypeORM repository: `findOne` with `where`, `upsert`, `delete`. */
export function typeormContender(dataSource: DataSource): Contender {
  const repository = dataSource.getRepository(OAuth);
  const toRow = rowOf(dataSource);
  return {
    async get(provider, userId) {
      const row = await repository.findOne({ where: { provider, userId } });
      return row ? row.token : null;
    },
    async set(provider, userId, token) {
      await repository.upsert(toRow(provider, userId, token), ['provider', 'userId']);
    },
    async delete(provider, userId) {
      await repository.delete({ provider, userId });
    },
  };
}

/** Flask-Dance's `set`: delete the user's row, insert a new one, in one transaction. */
export function typeormDeleteInsert(dataSource: DataSource): Contender['set'] {
  const toRow = rowOf(dataSource);
  return (provider, userId, token) =>
    dataSource.transaction(async (manager) => {
      await manager.delete(OAuth, { provider, userId });
      await manager.insert(OAuth, toRow(provider, userId, token));
    });
}

/** The row an app writes for a token: with `expiresAt` when the model keeps it (see {@link TableNames.expiresAt}). */
function rowOf(dataSource: DataSource) {
  const keepsExpiry = dataSource.getMetadata(OAuth).findColumnWithPropertyName('expiresAt') !== undefined;
  return (provider: string, userId: number, token: OAuthToken) => ({
    provider,
    userId,
    token,
    ...(keepsExpiry ? { expiresAt: expiresAtOf(token) } : {}),
  });
}

/** The example tables' names, quoted for the DataSource's database, for the raw SQL contenders. */
export interface TableNames {
  /** The token table. */
  readonly table: string;
  /** The user table. */
  readonly users: string;
  readonly provider: string;
  readonly userId: string;
  readonly token: string;
  readonly updatedAt: string;
  /**
   * The indexed expiry column the storage keeps on every write, when the
   * model has one: the other contenders write it too, or they would do less.
   */
  readonly expiresAt: string | null;
}

/** The `expiresAt` column's value for a token, as the storage derives it. */
export function expiresAtOf(token: OAuthToken): number | null {
  return typeof token.expires_at === 'number' ? Math.floor(token.expires_at) : null;
}

export function tableNames(dataSource: DataSource): TableNames {
  const metadata = dataSource.getMetadata(OAuth);
  const quote = (name: string) => dataSource.driver.escape(name);
  const qualified = (model: typeof User | typeof OAuth) => {
    const { schema, tableName } = dataSource.getMetadata(model);
    return schema ? `${quote(schema)}.${quote(tableName)}` : quote(tableName);
  };
  const optionalColumn = (property: string) => {
    const found = metadata.findColumnWithPropertyName(property);
    return found ? quote(found.databaseName) : null;
  };
  const column = (property: string) => optionalColumn(property)!;
  return {
    table: qualified(OAuth),
    users: qualified(User),
    provider: column('provider'),
    userId: column('userId'),
    token: column('token'),
    updatedAt: column('updatedAt'),
    expiresAt: optionalColumn('expiresAt'),
  };
}
