import type { DataSource, EntityManager, EntityTarget } from 'typeorm';
import type { CacheLike } from '../cache/cache-like';
import { TokenCache } from '../cache/token-cache';
import type { OAuthConsumerEntity } from '../entities/oauth-consumer.entity';
import { afterCommit } from '../cache/after-commit';
import { isEnvelope, TokenCipher, type EncryptionOptions } from '../encryption/token-cipher';
import { OAuthStorageError, TokenDecryptionError, UserRequiredError } from '../errors';
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
  /**
   * Encrypts tokens at rest with AES-256-GCM under rotatable keys. The token
   * column then holds only an envelope (key id, nonce, ciphertext, tag) bound
   * to its row's provider and user. Rows written before encryption was turned
   * on stay readable; `rotate()` encrypts them.
   */
  encryption?: EncryptionOptions;
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
  readonly #cipher: TokenCipher | null;
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
    this.#cipher = options.encryption === undefined ? null : new TokenCipher(options.encryption);
    if (dataSource.isInitialized) this.#tokenTable();
  }

  async get(provider: string, scope?: TypeOrmScope<User>): Promise<OAuthToken | null> {
    const target = await this.#target(provider, scope);
    const cache = this.#cacheOutside(scope);
    let generation: string | null = null;
    if (cache) {
      const read = await cache.read(target.ownerKey);
      if (read.hit !== undefined) return this.#decode(read.hit, target);
      generation = read.generation;
    }
    const stored = await target.table.executor.readToken(target.statements.get, target.params, scope?.manager);
    if (stored === undefined) return null;
    const token = this.#decode(stored, target); // before caching: what fails to decrypt is never cached
    if (cache && generation) await cache.fill(target.ownerKey, generation, stored);
    return token;
  }

  async set(provider: string, token: OAuthToken, scope?: TypeOrmScope<User>): Promise<void> {
    const target = await this.#target(provider, scope);
    const json = this.serialize(token);
    const stored = this.#cipher ? this.#cipher.seal(json, target.ownerKey) : json;
    await target.table.executor.write(target.statements.set, [...target.params, stored], scope?.manager);
    await this.#invalidate(target.ownerKey, scope);
  }

  async delete(provider: string, scope?: TypeOrmScope<User>): Promise<void> {
    const target = await this.#target(provider, scope);
    await target.table.executor.write(target.statements.delete, target.params, scope?.manager);
    await this.#invalidate(target.ownerKey, scope);
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
    const cipher = this.#cipher;
    if (!cipher) throw new OAuthStorageError('rotate() needs the encryption option');
    const batchSize = options.batchSize ?? 500;
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new OAuthStorageError('batchSize must be a positive integer');
    const table = this.#tokenTable();
    let rewritten = 0;
    let lastId = 0;
    for (;;) {
      const rows = await table.executor.readRows<ScannedRow>(table.scan, [lastId, batchSize]);
      for (const row of rows) {
        const stored = JSON.parse(row.token);
        if (cipher.isCurrent(stored)) continue;
        const ownerKey = ownerKeyOf(row.provider, row.owner);
        let json: string;
        try {
          json = isEnvelope(stored) ? cipher.open(stored, ownerKey, `Token row ${row.id}`) : row.token;
        } catch (error) {
          this.#dataSource.logger.log('warn', `typeorm-oauth-storage: rotate() skipped row ${row.id}: ${(error as Error).message}`);
          continue;
        }
        if ((await table.executor.write(table.replace, [cipher.seal(json, ownerKey), row.id, row.token])) > 0) {
          rewritten++;
          await this.#cache?.invalidate(ownerKey);
        }
      }
      if (rows.length < batchSize) return rewritten;
      lastId = Number(rows[rows.length - 1].id);
    }
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
    // Names the row for the cache and binds ciphertexts to it; not needed without either.
    const ownerKey = this.#cache || this.#cipher ? ownerKeyOf(provider, owner) : '';
    return { table, statements, params, provider, ownerKey };
  }

  /** The token object from the column's JSON text, decrypting envelopes. */
  #decode(stored: string, target: { provider: string; ownerKey: string }): OAuthToken {
    const value = JSON.parse(stored);
    if (!isEnvelope(value)) return value;
    const what = `The stored "${target.provider}" token`;
    if (!this.#cipher) throw new TokenDecryptionError(`${what} is encrypted, but the storage has no encryption keys`);
    return JSON.parse(this.#cipher.open(value, target.ownerKey, what));
  }

  /** The cache, unless the call runs inside a transaction, whose uncommitted rows must not be cached. */
  #cacheOutside(scope: TypeOrmScope<User> | undefined): TokenCache | null {
    return this.#cache && !scope?.manager?.queryRunner?.isTransactionActive ? this.#cache : null;
  }

  async #invalidate(ownerKey: string, scope: TypeOrmScope<User> | undefined): Promise<void> {
    const cache = this.#cache;
    if (!cache) return;
    await cache.invalidate(ownerKey);
    const runner = scope?.manager?.queryRunner;
    // Again after the commit: between now and then, a reader could cache the row as it was.
    if (runner?.isTransactionActive) afterCommit(this.#dataSource, runner, () => cache.invalidate(ownerKey));
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

interface ScannedRow {
  id: number | string;
  provider: string;
  owner: UserId | null;
  token: string;
}

/** Names one row (provider and owner) unambiguously: the cache key, and the associated data of its ciphertext. */
function ownerKeyOf(provider: string, owner: UserId | null): string {
  return JSON.stringify([provider, owner === null ? null : String(owner)]);
}

function noUserRelation(model: string): OAuthStorageError {
  return new OAuthStorageError(
    `${model} has no "user" relation, so its tokens cannot belong to users. Add one to the model ` +
      `(@ManyToOne(() => User, { nullable: true, onDelete: 'CASCADE' }) user) or drop the user/userId options.`,
  );
}
