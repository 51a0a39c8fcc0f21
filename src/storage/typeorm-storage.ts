import type { DataSource, EntityManager, EntityTarget } from 'typeorm';
import { afterCommit } from '../cache/after-commit';
import type { CacheLike } from '../cache/cache-like';
import { TokenCache } from '../cache/token-cache';
import { rotateKeys } from '../encryption/key-rotation';
import { TokenCipher, type EncryptionOptions } from '../encryption/token-cipher';
import { TokenCodec } from '../encryption/token-codec';
import type { OAuthConsumerEntity } from '../entities/oauth-consumer.entity';
import { OAuthStorageError, UserRequiredError } from '../errors';
import { nowSeconds } from '../internal/expiry';
import { resolveOwner, type OwnerRules, type OwnerSource } from '../internal/owner';
import { ownerKeyOf, type TokenRow } from '../internal/token-row';
import type { Statement } from '../internal/statement';
import { readTokenTable, type OwnerStatements, type TokenTable } from '../internal/token-table';
import { encodeToken } from '../internal/validate';
import { TokenRefresher, type RefreshFunction } from '../refresh/token-refresher';
import type { OAuthToken, Resolvable, StorageScope, UserId } from '../types';
import { BaseStorage } from './base-storage';

export type { RefreshFunction };

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
  /**
   * Encrypts tokens at rest with AES-256-GCM under rotatable keys. The token
   * column then holds only an envelope (key id, nonce, ciphertext, tag) bound
   * to its row's provider and user. Rows written before encryption was turned
   * on stay readable; `rotate()` encrypts them.
   */
  encryption?: EncryptionOptions;
  /**
   * `getValid` refreshes a token that expires within this many seconds, so a
   * token is never handed out just before the provider stops accepting it.
   * Default 60.
   */
  refreshLeewaySeconds?: number;
  /**
   * What `getValid` does when the provider answers the refresh with
   * `invalid_grant` (the user revoked access, or the refresh token expired):
   * `'keep'` (default) leaves the token; `'delete'` removes it, so the app sees
   * "not connected" and can send the user through the OAuth flow again.
   */
  onInvalidGrant?: 'keep' | 'delete';
  /**
   * How long the refresh function may take, in ms, before `getValid` gives up
   * with {@link TokenRefreshError}. Other callers wait for the refresh (on
   * PostgreSQL, on a row lock), so a hung provider must not hold them forever.
   * Default 30000.
   */
  refreshTimeout?: number;
}

/** A token `findExpiring` found: whose it is and when it expires. */
export interface ExpiringToken {
  provider: string;
  /** The user's id, or null for the app-wide token. */
  userId: UserId | null;
  expiresAt: Date;
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
  readonly #hasConfiguredUser: boolean;
  readonly #userRequired: boolean;
  readonly #ownerRules: OwnerRules<User>;
  readonly #cache: TokenCache | null;
  readonly #codec: TokenCodec;
  readonly #refresher: TokenRefresher;
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
    this.#codec = new TokenCodec(options.encryption === undefined ? null : new TokenCipher(options.encryption));
    if (options.onInvalidGrant !== undefined && options.onInvalidGrant !== 'keep' && options.onInvalidGrant !== 'delete') {
      throw new OAuthStorageError("onInvalidGrant must be 'keep' or 'delete'");
    }
    this.#refresher = new TokenRefresher(dataSource, this.#codec, this.#cache, {
      leewaySeconds: checkNumber('refreshLeewaySeconds', options.refreshLeewaySeconds ?? 60, 0),
      timeoutMs: checkNumber('refreshTimeout', options.refreshTimeout ?? 30_000, 1),
      deleteOnInvalidGrant: options.onInvalidGrant === 'delete',
    });
    if (dataSource.isInitialized) this.#tokenTable();
  }

  /** The stored token for `provider` and the call's user (or the app-wide one), or null; a cache hit runs no SQL. */
  async get(provider: string, scope?: TypeOrmScope<User>): Promise<OAuthToken | null> {
    const row = await this.#row(provider, scope);
    const cache = this.#cacheOutside(scope);
    let generation: string | null = null;
    if (cache) {
      const read = await cache.read(row.cacheKey);
      if (read.hit !== undefined) return this.#codec.decode(read.hit, row);
      generation = read.generation;
    }
    const stored = await row.table.executor.readToken(row.statements.get, row.params, scope?.manager);
    if (stored === undefined) return null;
    const token = this.#codec.decode(stored, row); // before caching: what fails to decrypt is never cached
    if (cache && generation) await cache.fill(row.cacheKey, generation, stored);
    return token;
  }

  /** Stores `token` (adding `expires_at`), replacing any earlier one, with one upsert; then clears the cache entry. */
  async set(provider: string, token: OAuthToken, scope?: TypeOrmScope<User>): Promise<void> {
    const row = await this.#row(provider, scope);
    const { json, expiresAt } = encodeToken(token);
    const params = [...row.params, this.#codec.encode(json, row), expiresAt];
    await this.#write(row, row.statements.set, params, scope);
  }

  /** Removes the token for `provider` and the call's user; removing a missing token is fine. */
  async delete(provider: string, scope?: TypeOrmScope<User>): Promise<void> {
    const row = await this.#row(provider, scope);
    await this.#write(row, row.statements.delete, row.params, scope);
  }

  /**
   * The token, refreshed first if it expires within `refreshLeewaySeconds`:
   * `refresh(oldToken)` asks the provider for a new one, which is stored
   * (keeping the old `refresh_token` when the response has none) and returned.
   * However many callers ask at once, `refresh` runs once per provider and
   * user: in this process, callers share one refresh; across processes on
   * PostgreSQL, the row is locked while it runs and the others then read the
   * new token. On SQLite, the new token is written only if the row did not
   * change meanwhile. Resolves to null when there is no token.
   *
   * A failing refresh rejects with {@link TokenRefreshError} (the error as its
   * `cause`) and leaves the stored token as it was.
   */
  async getValid(provider: string, refresh: RefreshFunction, scope?: StorageScope<User>): Promise<OAuthToken | null> {
    if (typeof refresh !== 'function') throw new OAuthStorageError('getValid needs a refresh function');
    const token = await this.get(provider, scope);
    if (token === null || this.#refresher.isFresh(token)) return token;
    return this.#refresher.refresh(await this.#row(provider, scope), refresh);
  }

  /**
   * Tokens that expire within `withinSeconds` from now (expired ones included),
   * soonest first, from the indexed `expiresAt` column: for a background job
   * that calls `getValid` ahead of time, so requests never wait for a refresh.
   */
  async findExpiring(withinSeconds: number, options: { limit?: number; provider?: string } = {}): Promise<ExpiringToken[]> {
    checkNumber('withinSeconds', withinSeconds, -Infinity);
    const limit = checkPositiveInteger('limit', options.limit ?? 100);
    const table = this.#tokenTable();
    const before = Math.min(Math.max(nowSeconds() + Math.floor(withinSeconds), -Number.MAX_SAFE_INTEGER), Number.MAX_SAFE_INTEGER);
    let rows: ExpiringRow[];
    if (options.provider === undefined) {
      rows = await table.executor.readRows<ExpiringRow>(table.expiring, [before, limit]);
    } else {
      this.assertProvider(options.provider);
      rows = await table.executor.readRows<ExpiringRow>(table.expiringForProvider, [before, options.provider, limit]);
    }
    return rows.map((row) => ({ provider: row.provider, userId: row.userId, expiresAt: new Date(Number(row.expiresAt) * 1000) }));
  }

  /**
   * Re-encrypts every token that is not under the current key (plaintext rows
   * included), in batches, and resolves to how many rows it rewrote. Safe while
   * the app serves traffic: a row is only replaced if nobody wrote it since it
   * was read. Once it returns, keys other than `current` can be dropped.
   * A row that cannot be decrypted is left as it is and reported through the
   * DataSource's logger.
   */
  async rotate(options: { batchSize?: number } = {}): Promise<number> {
    const cipher = this.#codec.cipher;
    if (!cipher) throw new OAuthStorageError('rotate() needs the encryption option');
    const batchSize = checkPositiveInteger('batchSize', options.batchSize ?? 500);
    return rotateKeys(this.#tokenTable(), cipher, this.#cache, this.#dataSource.logger, batchSize);
  }

  /** Checks the call's input and picks the statements and parameters for its owner. */
  async #row(provider: string, scope: TypeOrmScope<User> | undefined): Promise<TokenRow> {
    this.assertProvider(provider);
    const table = this.#tokenTable();
    const found = scope || this.#hasConfiguredUser ? resolveOwner<User>([scope, this.#configured], this.#ownerRules) : null;
    const resolved = found instanceof Promise ? await found : found;
    const owner = resolved === null ? null : table.canonicalUserId(resolved);
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
    const ownerKey = this.#cache || this.#codec.cipher ? ownerKeyOf(provider, owner) : '';
    const cacheKey = this.#cache ? table.cacheNamespace + ownerKey : '';
    return { table, statements, params, provider, owner, ownerKey, cacheKey };
  }

  /** The cache, unless the call runs inside a transaction, whose uncommitted rows must not be cached. */
  #cacheOutside(scope: TypeOrmScope<User> | undefined): TokenCache | null {
    return this.#cache && !scope?.manager?.queryRunner?.isTransactionActive ? this.#cache : null;
  }

  /**
   * Runs a write, then makes cached copies of the row stale. Also when the
   * write fails: a connection lost after the commit reports an error for a
   * write that happened.
   */
  async #write(row: TokenRow, statement: Statement, params: readonly unknown[], scope: TypeOrmScope<User> | undefined) {
    const cache = this.#cache;
    try {
      await row.table.executor.write(statement, params, scope?.manager);
    } finally {
      if (cache) {
        await cache.invalidate(row.cacheKey);
        const runner = scope?.manager?.queryRunner;
        // Again after the commit: between now and then, a reader could cache the row as it was.
        if (runner?.isTransactionActive) afterCommit(this.#dataSource, runner, () => cache.invalidate(row.cacheKey));
      }
    }
  }

  #tokenTable(): TokenTable {
    if (this.#table) return this.#table;
    const table = readTokenTable(this.#dataSource, this.#model);
    if (!table.userStatements && this.#hasConfiguredUser) throw noUserRelation(table.name);
    return (this.#table = table);
  }
}

interface ExpiringRow {
  provider: string;
  userId: UserId | null;
  expiresAt: number | string;
}

function checkNumber(name: string, value: number, min: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min) {
    throw new OAuthStorageError(`${name} must be a finite number${min > -Infinity ? ` of at least ${min}` : ''}`);
  }
  return value;
}

function checkPositiveInteger(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 1) throw new OAuthStorageError(`${name} must be a positive integer`);
  return value;
}

function noUserRelation(model: string): OAuthStorageError {
  return new OAuthStorageError(
    `${model} has no "user" relation, so its tokens cannot belong to users. Add one to the model ` +
      `(@ManyToOne(() => User, { nullable: true, onDelete: 'CASCADE' }) user) or drop the user/userId options.`,
  );
}
