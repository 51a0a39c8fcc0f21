import type { UserId } from '../types';
import type { OwnerStatements, TokenTable } from './token-table';

/** The row one call is about: its table, statements and parameters, and who owns it. */
export interface TokenRow {
  readonly table: TokenTable;
  readonly statements: OwnerStatements;
  /** provider[, userId]: the parameters that find the row. */
  readonly params: readonly unknown[];
  readonly provider: string;
  readonly owner: UserId | null;
  /** {@link ownerKeyOf}, or '' when neither cache nor encryption needs it. */
  readonly ownerKey: string;
  /** The row's key in the cache ({@link TokenTable.cacheNamespace} + owner key), or '' without a cache. */
  readonly cacheKey: string;
}

/** Names one row (provider and owner) unambiguously: its cache key, and the associated data of its ciphertext. */
export function ownerKeyOf(provider: string, owner: UserId | null): string {
  return JSON.stringify([provider, owner === null ? null : String(owner)]);
}
