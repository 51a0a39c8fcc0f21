import type { CacheLatencies } from './cache';
import type { Latency } from './measure';
import type { Machine } from './machine';
import type { OperationLatencies } from './operations';
import type { Profile } from './options';
import type { TableSizeResult } from './postgres';
import type { SqliteSetup } from './sqlite';
import type { JournalResults } from './sqlite-journal';
import type { StatementCounts, TypeormStatementCounts } from './statements';

/** Everything one run measured. */
export interface Results {
  readonly profile: Profile;
  readonly machine: Machine;
  readonly postgres: {
    readonly poolSize: number;
    readonly operations: OperationLatencies;
    readonly concurrent32: Record<'storage' | 'raw', { opsPerSec: number }>;
    readonly tableSize: TableSizeResult;
  };
  readonly sqlite: { readonly setup: SqliteSetup; readonly operations: OperationLatencies };
  readonly cache: CacheLatencies;
  readonly statements: Record<'postgres' | 'sqlite', { storage: StatementCounts; typeorm: TypeormStatementCounts }>;
  readonly journal: JournalResults;
  /** The machine's 1-minute load average when the run started and ended: other work widens the spread. */
  readonly load: { readonly start: number; readonly end: number };
}

/** A ratio or count of issue 4 point 2, and whether this run meets it. */
export interface Check {
  readonly name: string;
  readonly value: number;
  readonly limit: number;
  readonly pass: boolean;
}

/**
 * The targets of issue 4 point 2, on medians of one run. A ratio `a/b` is
 * a's median divided by b's: `storage/raw <= 1.15` means the storage takes
 * at most 15% longer than the raw driver.
 */
export function checks(results: Results): Check[] {
  const { postgres, sqlite, cache, statements } = results;
  const pg = postgres.operations;
  const concurrent = postgres.concurrent32;
  const ratio = (a: Latency, b: Latency) => a.p50Us / b.p50Us;
  const check = (name: string, value: number, operator: '<=' | '>=' | '<' | '==', limit: number): Check => {
    const pass = { '<=': value <= limit, '>=': value >= limit, '<': value < limit, '==': value === limit }[operator];
    return { name: `${name} ${operator} ${limit}`, value: Math.round(value * 100) / 100, limit, pass };
  };
  const bigRows = postgres.tableSize.bigRows.toLocaleString('en-US');
  return [
    check('postgres get: storage/raw', ratio(pg.get.storage, pg.get.raw), '<=', 1.15),
    check('postgres get: typeorm/storage', ratio(pg.get.typeorm, pg.get.storage), '>=', 1.5),
    check('postgres set: storage/raw', ratio(pg.set.storage, pg.set.raw), '<=', 1.2),
    check('postgres set: typeormDeleteInsert/storage', ratio(pg.set.typeormDeleteInsert, pg.set.storage), '>=', 3),
    check('sqlite get: storage/raw', ratio(sqlite.operations.get.storage, sqlite.operations.get.raw), '<=', 1.5),
    check('sqlite get: typeorm/storage', ratio(sqlite.operations.get.typeorm, sqlite.operations.get.storage), '>=', 3),
    check('cache memory: postgres get/memory hit', ratio(pg.get.storage, cache.memory), '>=', 50),
    check('cache redis: redis hit/postgres get', ratio(cache.redis, pg.get.storage), '<', 1),
    check('concurrent32: storage/raw ops per second', concurrent.storage.opsPerSec / concurrent.raw.opsPerSec, '>=', 0.85),
    check(`rows1m (${bigRows} rows): rows1m/rows1k`, ratio(postgres.tableSize.big, postgres.tableSize.rows1k), '<=', 1.3),
    ...(['get', 'getCached', 'set', 'delete'] as const).map((op) =>
      check(`statements ${op}`, statements.postgres.storage[op], '==', op === 'getCached' ? 0 : 1),
    ),
  ];
}

/** The JSON file of `--json FILE`: the shape issue 4 spells out, plus the checks. */
export function toJson(results: Results) {
  const { postgres, sqlite, cache } = results;
  const operations = (ops: OperationLatencies) => ({ get: ops.get, getMiss: ops.getMiss, set: ops.set, delete: ops.delete });
  const statements = results.statements.postgres.storage;
  return {
    postgres: {
      ...operations(postgres.operations),
      concurrent32: postgres.concurrent32,
      rows1k: { p50Us: postgres.tableSize.rows1k.p50Us },
      rows1m: { p50Us: postgres.tableSize.big.p50Us },
    },
    sqlite: operations(sqlite.operations),
    cache: { memory: { p50Us: cache.memory.p50Us }, redis: { p50Us: cache.redis.p50Us } },
    statements: { get: statements.get, getCached: statements.getCached, set: statements.set, delete: statements.delete },
    checks: checks(results),
  };
}
