import type { DataSource, EntityManager, EntityTarget } from 'typeorm';
import type { CacheLike } from '../cache/cache-like';
import { TokenCache } from '../cache/token-cache';
import type { OAuthConsumerEntity } from '../entities/oauth-consumer.entity';
import { OAuthStorageError, UserRequiredError } from '../errors';
import { resolveOwner, type OwnerRules, type OwnerSource } from '../internal/owner';
import { readTokenTable, type OwnerStatements, type TokenTable } from '../internal/token-table';
import type { OAuthToken, Resolvable, StorageScope, UserId } from '../types';
import { BaseStorage } from './base-storage';

/**
 * Whose token a {@link TypeOrmStorage} call is about, and optionally the
 * transaction it belongs to.
 */
export interface TypeOrmScope<User = unknown> extends StorageScope<User> {
  /**
   * The `EntityManager` of a transaction the call should join
   * (`dataSource.transaction(async (manager) => ...)`), so the token is written
   * or deleted together with the app's own changes, or not at all.
   */
  manager?: EntityManager;
}

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
  readonly #cache: TokenCache | null;
  readonly #hasConfiguredUser: boolean;
  readonly #ownerRules: OwnerRules<User>;
  #table: TokenTable | null = null;

  constructor(dataSource: DataSource, model: EntityTarget<OAuthConsumerEntity>, options: TypeOrmStorageOptions<User> = {}) {
    super();
    this.#dataSource = dataSource;
    this.#model = model;
    this.#configured = { user: options.user, userId: options.userId };
    this.#hasConfiguredUser = options.user !== undefined || options.userId !== undefined;
    this.#userRequired = options.userRequired ?? this.#hasConfiguredUser;
    this.#ownerRules = {
      isAnonymous: options.isAnonymous,
      idOf: (user) => (user as Record<string, unknown>)[this.#tokenTable().userIdProperty ?? 'id'],
    };
    this.#cache = options.cache
      ? new TokenCache(options.cache, { ttl: options.cacheTtl, timeout: options.cacheTimeout, logger: () => dataSource.logger })
      : null;
    if (dataSource.isInitialized) this.#tokenTable();
  }

  async get(provider: string, scope?: TypeOrmScope<User>): Promise<OAuthToken | null> {
    const target = await this.#target(provider, scope);
    if (this.#cache) {
      const cached = await this.#cache.get(target.cacheKey);
      if (cached !== undefined) return JSON.parse(cached);
    }
    const json = await target.table.executor.readToken(target.statements.get, target.params, scope?.manager);
    if (json === undefined) return null;
    if (this.#cache) await this.#cache.set(target.cacheKey, json);
    return JSON.parse(json);
  }

  async set(provider: string, token: OAuthToken, scope?: TypeOrmScope<User>): Promise<void> {
    const target = await this.#target(provider, scope);
    const json = this.serialize(token);
    await target.table.executor.write(target.statements.set, [...target.params, json], scope?.manager);
    if (this.#cache) await this.#cache.delete(target.cacheKey);
  }

  async delete(provider: string, scope?: TypeOrmScope<User>): Promise<void> {
    const target = await this.#target(provider, scope);
    await target.table.executor.write(target.statements.delete, target.params, scope?.manager);
    if (this.#cache) await this.#cache.delete(target.cacheKey);
  }

  /** Checks the call's input and picks the statements and parameters for its owner. */
  async #target(provider: string, scope: TypeOrmScope<User> | undefined) {
    this.assertProvider(provider);
    const table = this.#tokenTable();
    const owner = scope || this.#hasConfiguredUser ? await resolveOwner<User>([scope, this.#configured], this.#ownerRules) : null;
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
    const cacheKey = this.#cache ? `oauth-token:${table.name}:${JSON.stringify([provider, owner === null ? null : String(owner)])}` : '';
    return { table, statements, params, cacheKey };
  }

  #tokenTable(): TokenTable {
    if (this.#table) return this.#table;
    const table = readTokenTable(this.#dataSource, this.#model);
    if (!table.userStatements && this.#hasConfiguredUser) {
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
