import type { DataSource, EntityTarget } from 'typeorm';
import type { CacheLike } from '../cache/cache-like';
import { TokenCache } from '../cache/token-cache';
import type { OAuthConsumerEntity } from '../entities/oauth-consumer.entity';
import { OAuthStorageError, UserRequiredError } from '../errors';
import { resolveOwner, type OwnerSource } from '../internal/owner';
import { readTokenTable, type OwnerStatements, type TokenTable } from '../internal/token-table';
import type { OAuthToken, Resolvable, StorageScope, UserId } from '../types';
import { BaseStorage } from './base-storage';

/** Options of {@link TypeOrmStorage}. */
export interface TypeOrmStorageOptions<User = unknown> {
  /**
   * The user whose tokens this storage reads and writes: a user object, or a
   * function (sync or async) returning the current user or null, such as
   * `currentUser` from the request context helper. Calls can name another
   * user through their scope.
   */
  user?: Resolvable<User | null | undefined>;
  /** Like `user`, but the user's id; wins over `user` when both give one. */
  userId?: Resolvable<UserId | null | undefined>;
  /**
   * Refuse calls that find no user, with {@link UserRequiredError}, instead of
   * using the app-wide token. Default: true when `user` or `userId` is set, so
   * a logged-out request can never read or overwrite the app-wide token.
   */
  userRequired?: boolean;
  /**
   * Tells anonymous users (a guest object your auth library returns instead of
   * null) from real ones; an anonymous user counts as no user.
   */
  isAnonymous?: (user: User) => boolean;
  /**
   * A cache in front of the table (Keyv, cache-manager, or anything with
   * get/set/delete). A cached `get` runs no SQL; `set` and `delete` clear the
   * entry after writing. A failing or slow cache never fails a call.
   */
  cache?: CacheLike;
  /** How long a token stays cached, in milliseconds. Default: the cache's own default. */
  cacheTtl?: number;
  /** How long a cache call may take before the database answers instead, in ms. Default 250. */
  cacheTimeout?: number;
}

/**
 * Keeps OAuth tokens in a table of your database through TypeORM: one row per
 * provider and user, written with a single upsert, and every query scoped by
 * provider and user. The model is a subclass of {@link OAuthConsumerEntity}.
 *
 * ```ts
 * const storage = new TypeOrmStorage(dataSource, OAuth, { user: currentUser });
 * await storage.set('github', token);
 * const token = await storage.get('github');
 * ```
 */
export class TypeOrmStorage<User = unknown> extends BaseStorage<User> {
  readonly #dataSource: DataSource;
  readonly #model: EntityTarget<OAuthConsumerEntity>;
  readonly #configured: OwnerSource<User>;
  readonly #userRequired: boolean;
  readonly #isAnonymous: ((user: User) => boolean) | undefined;
  readonly #cache: TokenCache | null;
  #table: TokenTable | null = null;

  constructor(dataSource: DataSource, model: EntityTarget<OAuthConsumerEntity>, options: TypeOrmStorageOptions<User> = {}) {
    super();
    this.#dataSource = dataSource;
    this.#model = model;
    this.#configured = { user: options.user, userId: options.userId };
    const hasUser = options.user !== undefined || options.userId !== undefined;
    this.#userRequired = options.userRequired ?? hasUser;
    this.#isAnonymous = options.isAnonymous;
    this.#cache = options.cache
      ? new TokenCache(options.cache, { ttl: options.cacheTtl, timeout: options.cacheTimeout, logger: () => dataSource.logger })
      : null;
    if (dataSource.isInitialized) this.#tokenTable();
  }

  async get(provider: string, scope?: StorageScope<User>): Promise<OAuthToken | null> {
    const { statements, params, cacheKey } = await this.#target(provider, scope);
    if (this.#cache) {
      const cached = await this.#cache.get(cacheKey);
      if (cached !== undefined) return JSON.parse(cached);
    }
    const rows: Array<{ token: string }> = await this.#dataSource.query(statements.get, params);
    if (rows.length === 0) return null;
    const json = rows[0].token;
    if (this.#cache) await this.#cache.set(cacheKey, json);
    return JSON.parse(json);
  }

  async set(provider: string, token: OAuthToken, scope?: StorageScope<User>): Promise<void> {
    const { statements, params, cacheKey } = await this.#target(provider, scope);
    const json = this.serialize(token);
    await this.#dataSource.query(statements.set, [...params, json]);
    if (this.#cache) await this.#cache.delete(cacheKey);
  }

  async delete(provider: string, scope?: StorageScope<User>): Promise<void> {
    const { statements, params, cacheKey } = await this.#target(provider, scope);
    await this.#dataSource.query(statements.delete, params);
    if (this.#cache) await this.#cache.delete(cacheKey);
  }

  /** Checks the call's input and picks the statements and parameters for its owner. */
  async #target(provider: string, scope: StorageScope<User> | undefined) {
    this.assertProvider(provider);
    const table = this.#tokenTable();
    const owner = await resolveOwner<User>([scope, this.#configured], {
      isAnonymous: this.#isAnonymous,
      idOf: (user) => (user as Record<string, unknown>)[table.userIdProperty ?? 'id'],
    });
    let statements: OwnerStatements;
    let params: unknown[];
    if (owner === null) {
      if (this.#userRequired) throw new UserRequiredError();
      statements = table.appStatements;
      params = [provider];
    } else {
      if (!table.userStatements) throw noUserRelation(table.name);
      statements = table.userStatements;
      params = [provider, owner];
    }
    const cacheKey = `oauth-token:${table.name}:${JSON.stringify([provider, owner === null ? null : String(owner)])}`;
    return { statements, params, cacheKey };
  }

  #tokenTable(): TokenTable {
    if (this.#table) return this.#table;
    const table = readTokenTable(this.#dataSource, this.#model);
    if (!table.userStatements && (this.#configured.user !== undefined || this.#configured.userId !== undefined)) {
      throw noUserRelation(table.name);
    }
    return (this.#table = table);
  }
}

function noUserRelation(model: string): OAuthStorageError {
  return new OAuthStorageError(
    `${model} has no "user" relation, so its tokens cannot belong to users. Add one to the model ` +
      `(@ManyToOne(() => User, { nullable: true, onDelete: 'CASCADE' }) user) or drop the user/userId options.`,
  );
}
