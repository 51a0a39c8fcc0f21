import type { DataSource } from 'typeorm';
import { MapCache } from './cache';
import { PROVIDERS, storageContender, TOKEN, typeormContender, typeormDeleteInsert, type Contender } from './contenders';
import type { CountingLogger } from './counting-logger';

/** SQL statements the storage sends per call, as the DataSource's logger sees them. */
export interface StatementCounts {
  readonly get: number;
  /** A `get` answered by the cache. */
  readonly getCached: number;
  readonly set: number;
  readonly delete: number;
}

/** The same for the hand-written TypeORM code, for comparison. */
export interface TypeormStatementCounts {
  readonly get: number;
  readonly set: number;
  readonly setDeleteInsert: number;
  readonly delete: number;
}

export async function countStatements(
  dataSource: DataSource,
  logger: CountingLogger,
  userId: number,
): Promise<{ storage: StatementCounts; typeorm: TypeormStatementCounts }> {
  const { hit, deleted } = PROVIDERS;
  const counts = async (contender: Contender) => {
    const set = await logger.count(() => contender.set(hit, userId, TOKEN));
    const get = await logger.count(() => contender.get(hit, userId));
    await contender.set(deleted, userId, TOKEN);
    return { get, set, delete: await logger.count(() => contender.delete(deleted, userId)) };
  };
  const storage = await counts(storageContender(dataSource));
  const cached = storageContender(dataSource, new MapCache());
  await cached.get(hit, userId);
  const getCached = await logger.count(() => cached.get(hit, userId));
  const typeorm = await counts(typeormContender(dataSource));
  const setDeleteInsert = await logger.count(() => typeormDeleteInsert(dataSource)(hit, userId, TOKEN));
  return { storage: { ...storage, getCached }, typeorm: { ...typeorm, setDeleteInsert } };
}
