import type { Logger } from 'typeorm';
import type { TokenCache } from '../cache/token-cache';
import { ownerKeyOf } from '../internal/token-row';
import type { TokenTable } from '../internal/token-table';
import type { UserId } from '../types';
import { isEnvelope, type TokenCipher } from './token-cipher';

interface ScannedRow {
  id: number | string;
  provider: string;
  owner: UserId | null;
  token: string;
}

/**
 * Re-encrypts, batch by batch in id order, every row not under the cipher's
 * current key, and returns how many rows it rewrote. Each row is replaced
 * only if its token is still the one read, so a concurrent write wins over
 * the rotation. Rows that do not decrypt are reported and left alone: one bad
 * row must not stop the rest from moving to the new key.
 */
export async function rotateKeys(
  table: TokenTable,
  cipher: TokenCipher,
  cache: TokenCache | null,
  logger: Logger,
  batchSize: number,
): Promise<number> {
  let rewritten = 0;
  let lastId: number | string = 0;
  for (;;) {
    const rows: ScannedRow[] = await table.executor.readRows<ScannedRow>(table.scan, [lastId, batchSize]);
    for (const row of rows) {
      const stored = JSON.parse(row.token);
      if (cipher.isCurrent(stored)) continue;
      const ownerKey = ownerKeyOf(row.provider, row.owner === null ? null : table.canonicalUserId(row.owner));
      let json: string;
      try {
        json = isEnvelope(stored) ? cipher.open(stored, ownerKey, `Token row ${row.id}`) : row.token;
      } catch (error) {
        logger.log('warn', `typeorm-oauth-storage: rotate() skipped row ${row.id}: ${(error as Error).message}`);
        continue;
      }
      if ((await table.executor.write(table.replace, [cipher.seal(json, ownerKey), row.id, row.token])) > 0) {
        rewritten++;
        await cache?.invalidate(table.cacheNamespace + ownerKey);
      }
    }
    if (rows.length < batchSize) return rewritten;
    lastId = rows[rows.length - 1].id;
  }
}
