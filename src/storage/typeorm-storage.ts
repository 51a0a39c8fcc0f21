import type { DataSource, EntityManager, EntityTarget } from 'typeorm';
import type { CacheLike } from '../cache/cache-like';
import { TokenCache } from '../cache/token-cache';
import type { OAuthConsumerEntity } from '../entities/oauth-consumer.entity';
import { afterCommit } from '../cache/after-commit';
import { isEnvelope, TokenCipher, type EncryptionOptions } from '../encryption/token-cipher';
import { OAuthStorageError, TokenDecryptionError, TokenRefreshError, UserRequiredError } from '../errors';
import { isFresh, nowSeconds } from '../internal/expiry';
import { encodeToken, isPlainObject } from '../internal/validate';
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

/**
 * Asks the provider for a new token, given the stored one (use its
 * `refresh_token`); returns the provider's token response.
 */
export type RefreshFunction = (token: OAuthToken) => OAuthToken | Promise<OAuthToken>;

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
  readonly #userRequired: boolean;
  readonly #cache: TokenCache | null;
  readonly #cipher: TokenCipher | null;
  readonly #refreshLeeway: number;
  readonly #refreshTimeout: number;
  readonly #deleteOnInvalidGrant: boolean;
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
    this.#refreshLeeway = checkNumber('refreshLeewaySeconds', options.refreshLeewaySeconds ?? 60, 0);
    this.#refreshTimeout = checkNumber('refreshTimeout', options.refreshTimeout ?? 30_000, 1);
    if (options.onInvalidGrant !== undefined && options.onInvalidGrant !== 'keep' && options.onInvalidGrant !== 'delete') {
      throw new OAuthStorageError("onInvalidGrant must be 'keep' or 'delete'");
    }
    this.#deleteOnInvalidGrant = options.onInvalidGrant === 'delete';
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
    const { json, expiresAt } = encodeToken(token);
    await target.table.executor.write(target.statements.set, [...target.params, this.#seal(json, target), expiresAt], scope?.manager);
    await this.#invalidate(target.ownerKey, scope);
  }

  async delete(provider: string, scope?: TypeOrmScope<User>): Promise<void> {
    const target = await this.#target(provider, scope);
    await target.table.executor.write(target.statements.delete, target.params, scope?.manager);
    await this.#invalidate(target.ownerKey, scope);
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
    if (token === null || isFresh(token, this.#refreshLeeway)) return token;
    const target = await this.#target(provider, scope);
    // Shared by every storage on this DataSource: apps may create a storage per request.
    let flights = refreshesUnderWay.get(this.#dataSource);
    if (!flights) refreshesUnderWay.set(this.#dataSource, (flights = new Map()));
    const key = `${target.table.name}:${ownerKeyOf(provider, target.owner)}`;
    let flight = flights.get(key);
    if (!flight) {
      flight = this.#refresh(target, refresh).finally(() => flights.delete(key));
      flights.set(key, flight);
    }
    return flight;
  }

  /**
   * Tokens that expire within `withinSeconds` from now (expired ones included),
   * soonest first, from the indexed `expiresAt` column: for a background job
   * that calls `getValid` ahead of time, so requests never wait for a refresh.
   */
  async findExpiring(withinSeconds: number, options: { limit?: number; provider?: string } = {}): Promise<ExpiringToken[]> {
    checkNumber('withinSeconds', withinSeconds, -Infinity);
    const limit = options.limit ?? 100;
    if (!Number.isInteger(limit) || limit < 1) throw new OAuthStorageError('limit must be a positive integer');
    const table = this.#tokenTable();
    const before = nowSeconds() + Math.floor(withinSeconds);
    const rows =
      options.provider === undefined
        ? await table.executor.readRows<ExpiringRow>(table.expiring, [before, limit])
        : (this.assertProvider(options.provider),
          await table.executor.readRows<ExpiringRow>(table.expiringForProvider, [before, options.provider, limit]));
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
  async #target(provider: string, scope: TypeOrmScope<User> | undefined): Promise<Target> {
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
    return { table, statements, params, provider, owner, ownerKey };
  }

  /** Refreshes one row's token: under a row lock where the database has them, else with compare-and-set. */
  async #refresh(target: Target, refresh: RefreshFunction): Promise<OAuthToken | null> {
    const outcome = target.table.refreshInTransaction
      ? await this.#dataSource.transaction((manager) => this.#refreshRow(target, refresh, manager))
      : await this.#refreshRow(target, refresh, undefined);
    if (outcome.changed) await this.#cache?.invalidate(target.ownerKey);
    if (outcome.error) throw outcome.error;
    return outcome.token;
  }

  /**
   * Reads the row (locked, with a manager), refreshes if nobody did meanwhile,
   * writes the result. Reports a failed refresh instead of throwing it, so the
   * transaction still commits the deletion that `onInvalidGrant: 'delete'` asks for.
   */
  async #refreshRow(target: Target, refresh: RefreshFunction, manager: EntityManager | undefined): Promise<RefreshOutcome> {
    const { executor } = target.table;
    const { statements, params } = target;
    const stored = await executor.readToken(manager ? statements.getForUpdate : statements.get, params, manager);
    if (stored === undefined) return { token: null, changed: false };
    const current = this.#decode(stored, target);
    if (isFresh(current, this.#refreshLeeway)) return { token: current, changed: false }; // refreshed by another process
    let encoded: { json: string; expiresAt: number | null };
    try {
      const response = await withTimeout(Promise.resolve().then(() => refresh(current)), this.#refreshTimeout);
      encoded = encodeToken(
        isPlainObject(response) && response.refresh_token === undefined && current.refresh_token !== undefined
          ? { ...response, refresh_token: current.refresh_token }
          : response,
      );
    } catch (cause) {
      const error = new TokenRefreshError(`Refreshing the "${target.provider}" token failed`, { cause });
      if (this.#deleteOnInvalidGrant && isInvalidGrant(cause)) {
        const deleted = await executor.write(statements.deleteIfUnchanged, [...params, stored], manager);
        return { token: null, changed: deleted > 0, error };
      }
      return { token: null, changed: false, error };
    }
    const written = await executor.write(
      statements.replaceIfUnchanged,
      [this.#seal(encoded.json, target), encoded.expiresAt, ...params, stored],
      manager,
    );
    if (written === 0) {
      // Another process refreshed first (SQLite): its token wins; hand that one out.
      const latest = await executor.readToken(statements.get, params, manager);
      return { token: latest === undefined ? null : this.#decode(latest, target), changed: true };
    }
    return { token: JSON.parse(encoded.json), changed: true };
  }

  #seal(json: string, target: Target): string {
    return this.#cipher ? this.#cipher.seal(json, target.ownerKey) : json;
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

/** Refreshes under way in this process, by DataSource and row: callers asking at once share one. */
const refreshesUnderWay = new WeakMap<DataSource, Map<string, Promise<OAuthToken | null>>>();

/** One call's row: its table, statements and parameters, and who owns it. */
interface Target {
  table: TokenTable;
  statements: OwnerStatements;
  params: unknown[];
  provider: string;
  owner: UserId | null;
  /** {@link ownerKeyOf}, or '' when neither cache nor encryption needs it. */
  ownerKey: string;
}

interface RefreshOutcome {
  token: OAuthToken | null;
  /** Whether the row changed, so cached copies must go. */
  changed: boolean;
  error?: TokenRefreshError;
}

interface ExpiringRow {
  provider: string;
  userId: UserId | null;
  expiresAt: number | string;
}

interface ScannedRow {
  id: number | string;
  provider: string;
  owner: UserId | null;
  token: string;
}

function checkNumber(name: string, value: number, min: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min) {
    throw new OAuthStorageError(`${name} must be a finite number${min > -Infinity ? ` of at least ${min}` : ''}`);
  }
  return value;
}

/** Whether an OAuth client library's error says the provider answered `invalid_grant` (RFC 6749 section 5.2). */
function isInvalidGrant(error: unknown): boolean {
  for (let e = error as { error?: unknown; code?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 5; depth++) {
    if (e.error === 'invalid_grant' || e.code === 'invalid_grant') return true;
    e = e.cause as typeof e;
  }
  return false;
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new OAuthStorageError(`the refresh function did not finish within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
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
