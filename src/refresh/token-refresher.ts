import type { DataSource, EntityManager } from 'typeorm';
import type { TokenCache } from '../cache/token-cache';
import type { TokenCodec } from '../encryption/token-codec';
import { OAuthStorageError, TokenRefreshError } from '../errors';
import { isFresh } from '../internal/expiry';
import { ownerKeyOf, type TokenRow } from '../internal/token-row';
import { encodeToken, isPlainObject } from '../internal/validate';
import type { OAuthToken } from '../types';

/**
 * Asks the provider for a new token, given the stored one (use its
 * `refresh_token`); returns the provider's token response.
 */
export type RefreshFunction = (token: OAuthToken) => OAuthToken | Promise<OAuthToken>;

export interface RefreshRules {
  leewaySeconds: number;
  timeoutMs: number;
  deleteOnInvalidGrant: boolean;
}

interface RefreshOutcome {
  token: OAuthToken | null;
  /** Whether the row changed, so cached copies must go. */
  changed: boolean;
  error?: TokenRefreshError;
}

/** Refreshes under way in this process, by DataSource and row: callers asking at once share one. */
const underWay = new WeakMap<DataSource, Map<string, Promise<OAuthToken | null>>>();

/**
 * Runs an app's refresh function at most once at a time per row: callers in
 * one process share one refresh (per DataSource, since apps may create a
 * storage per request); across processes the row is locked while the provider
 * answers where the database allows it, and written with compare-and-set
 * where it does not.
 */
export class TokenRefresher {
  readonly #dataSource: DataSource;
  readonly #codec: TokenCodec;
  readonly #cache: TokenCache | null;
  readonly #rules: RefreshRules;

  constructor(dataSource: DataSource, codec: TokenCodec, cache: TokenCache | null, rules: RefreshRules) {
    this.#dataSource = dataSource;
    this.#codec = codec;
    this.#cache = cache;
    this.#rules = rules;
  }

  /** Whether a token is good for longer than the leeway, so it needs no refresh. */
  isFresh(token: OAuthToken): boolean {
    return isFresh(token, this.#rules.leewaySeconds);
  }

  /** The row's token after a refresh, which this call runs or joins. */
  refresh(row: TokenRow, refresh: RefreshFunction): Promise<OAuthToken | null> {
    let flights = underWay.get(this.#dataSource);
    if (!flights) underWay.set(this.#dataSource, (flights = new Map()));
    const key = `${row.table.name}:${ownerKeyOf(row.provider, row.owner)}`;
    let flight = flights.get(key);
    if (!flight) {
      const done = flights;
      flight = this.#refresh(row, refresh).finally(() => done.delete(key));
      flights.set(key, flight);
    }
    return flight;
  }

  async #refresh(row: TokenRow, refresh: RefreshFunction): Promise<OAuthToken | null> {
    const outcome = row.table.refreshInTransaction
      ? await this.#dataSource.transaction((manager) => this.#refreshRow(row, refresh, manager))
      : await this.#refreshRow(row, refresh, undefined);
    if (outcome.changed) await this.#cache?.invalidate(row.cacheKey);
    if (outcome.error) throw outcome.error;
    return outcome.token;
  }

  /**
   * Reads the row (locked, with a manager), refreshes unless someone did
   * meanwhile, writes the result if the row is still as read. Reports a failed
   * refresh instead of throwing it, so the transaction still commits the
   * deletion that `onInvalidGrant: 'delete'` asks for.
   */
  async #refreshRow(row: TokenRow, refresh: RefreshFunction, manager: EntityManager | undefined): Promise<RefreshOutcome> {
    const { executor } = row.table;
    const { statements, params } = row;
    const stored = await executor.readToken(manager ? statements.getForUpdate : statements.get, params, manager);
    if (stored === undefined) return { token: null, changed: false };
    const current = this.#codec.decode(stored, row);
    if (this.isFresh(current)) return { token: current, changed: false }; // refreshed by another process
    let encoded: { json: string; expiresAt: number | null };
    try {
      const response = await withTimeout(Promise.resolve().then(() => refresh(current)), this.#rules.timeoutMs);
      encoded = encodeToken(
        isPlainObject(response) && response.refresh_token === undefined && current.refresh_token !== undefined
          ? { ...response, refresh_token: current.refresh_token }
          : response,
      );
    } catch (cause) {
      const error = new TokenRefreshError(`Refreshing the "${row.provider}" token failed`, { cause });
      if (this.#rules.deleteOnInvalidGrant && isInvalidGrant(cause)) {
        const deleted = await executor.write(statements.deleteIfUnchanged, [...params, stored], manager);
        return { token: null, changed: deleted > 0, error };
      }
      return { token: null, changed: false, error };
    }
    const written = await executor.write(
      statements.replaceIfUnchanged,
      [this.#codec.encode(encoded.json, row), encoded.expiresAt, ...params, stored],
      manager,
    );
    if (written === 0) {
      // Another process refreshed first (SQLite): its token wins; hand that one out.
      const latest = await executor.readToken(statements.get, params, manager);
      return { token: latest === undefined ? null : this.#codec.decode(latest, row), changed: true };
    }
    return { token: JSON.parse(encoded.json), changed: true };
  }
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
