import type { Latency } from './measure';
import { machineLine } from './machine';
import type { OperationLatencies } from './operations';
import { checks, type Results } from './results';
import { describeSetup } from './sqlite';

/** Columns padded to their widest cell; the first column is left-aligned, the others right-aligned. */
function table(rows: string[][]): string {
  const widths = rows[0].map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length)));
  return rows
    .map((row) => row.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]) : cell.padStart(widths[column]))))
    .map((cells) => cells.join('   '))
    .map((line) => `  ${line.trimEnd()}`)
    .join('\n');
}

const us = (value: number) => (Number.isNaN(value) ? '-' : value < 100 ? value.toFixed(1) : Math.round(value).toString());
const latency = (l: Latency | undefined) => (l ? `${us(l.p50Us)} / ${us(l.p99Us)}` : '');
const times = (a: Latency, b: Latency) => `${(a.p50Us / b.p50Us).toFixed(2)}x`;
const count = (n: number) => n.toLocaleString('en-US');

function operationsTable(ops: OperationLatencies): string {
  const rows = [['operation', 'storage', 'typeorm', 'raw', 'typeormDeleteInsert', 'storage/raw', 'typeorm/storage']];
  const labelled = [['get', ops.get], ['get (miss)', ops.getMiss], ['set (replace)', ops.set], ['delete', ops.delete]] as const;
  for (const [label, op] of labelled) {
    const deleteInsert = 'typeormDeleteInsert' in op ? (op.typeormDeleteInsert as Latency) : undefined;
    const ratios = [times(op.storage, op.raw), times(op.typeorm, op.storage)];
    rows.push([label, latency(op.storage), latency(op.typeorm), latency(op.raw), latency(deleteInsert), ...ratios]);
  }
  return table(rows);
}

/** The human-readable report printed on stdout. */
export function humanReport(results: Results): string {
  const { profile, postgres, sqlite, cache, statements, journal } = results;
  const pgGet = postgres.operations.get.storage;
  const { tableSize, concurrent32 } = postgres;
  const plan = [...new Set(tableSize.plans)].join(' / ');
  const shrunk =
    tableSize.bigRows < 1_000_000 ? `\n  --quick: "rows1m" is measured at ${count(tableSize.bigRows)} rows, not 1,000,000` : '';
  const statementRows = (['postgres', 'sqlite'] as const).flatMap((db) => {
    const { storage, typeorm } = statements[db];
    return [
      [`storage, ${db}`, storage.get, storage.getCached, storage.set, '-', storage.delete],
      [`typeorm, ${db}`, typeorm.get, '-', typeorm.set, typeorm.setDeleteInsert, typeorm.delete],
    ].map((row) => row.map(String));
  });
  const lines = [
    `typeorm-oauth-storage benchmark, ${profile.name} run: ${profile.rounds} round(s) of ${profile.taskTimeMs} ms per task ` +
      `after ${profile.warmupTimeMs} ms warm-up`,
    `Machine: ${machineLine(results.machine)}`,
    `Load average (1 min) at start / end: ${results.load.start.toFixed(2)} / ${results.load.end.toFixed(2)}`,
    'Latency: median / p99 in microseconds per call, one caller at a time. storage = TypeOrmStorage, typeorm = the same',
    'operation hand-written with a TypeORM repository, raw = the same SQL straight on the driver. Ratios compare medians.',
    '',
    `PostgreSQL (DataSource pool ${postgres.poolSize}; raw = named prepared statements on a pg Pool)`,
    operationsTable(postgres.operations),
    '',
    `SQLite (${describeSetup(sqlite.setup)}; raw = better-sqlite3 prepared statements)`,
    operationsTable(sqlite.operations),
    '',
    'Cached get (a hit; the PostgreSQL storage behind it)',
    table([
      ['cache', 'p50 / p99', 'PostgreSQL get / hit'],
      ['Map (in-process)', latency(cache.memory), times(pgGet, cache.memory)],
      ['Keyv in-memory', latency(cache.keyvMemory), times(pgGet, cache.keyvMemory)],
      ['Keyv + Redis', latency(cache.redis), times(pgGet, cache.redis)],
    ]),
    '',
    `32 concurrent callers, PostgreSQL get, ${count(profile.concurrentOps)} calls per round (median round)`,
    table([
      ['', 'ops/s'],
      ['storage (DataSource pool)', count(concurrent32.storage.opsPerSec)],
      [`raw (pg Pool, max ${postgres.poolSize})`, count(concurrent32.raw.opsPerSec)],
      ['storage/raw', (concurrent32.storage.opsPerSec / concurrent32.raw.opsPerSec).toFixed(2)],
    ]),
    '',
    `Table size: PostgreSQL storage get of the same 1,000 rows in turn (plan: ${plan})${shrunk}`,
    table([
      ['rows', 'p50 / p99', 'vs 1,000 rows'],
      ['1,000', latency(tableSize.rows1k), '1.00x'],
      [count(tableSize.bigRows), latency(tableSize.big), times(tableSize.big, tableSize.rows1k)],
    ]),
    '',
    'SQL statements per call, counted by the DataSource logger',
    table([['', 'get', 'cached get', 'set', 'set (delete+insert)', 'delete'], ...statementRows]),
    '',
    'SQLite journal and busy timeout (issue 4 point 3): storage, one process',
    table([
      ['setup', 'set p50 / p99', 'get p50 / p99'],
      ...journal.latency.map((j) => [describeSetup(j.setup), latency(j.set), latency(j.get)]),
    ]),
    '',
    `SQLite, two processes writing at once (storage set, ${count(profile.sqliteWriterOps)} each, own rows, one file)`,
    table([
      ['setup', 'writes/s', 'SQLITE_BUSY', 'p50 / p99'],
      ...journal.writers.map((w) => {
        const busy = `${w.busyErrors} of ${w.attempted}`;
        return [describeSetup(w.setup), count(w.opsPerSec), busy, latency(w.latency)];
      }),
    ]),
    '',
    'Ratio checks of issue 4 point 2 (medians; reported, not enforced unless --strict)',
  ];
  const all = checks(results);
  for (const check of all) lines.push(`  ${check.pass ? 'PASS' : 'FAIL'}  ${check.name.padEnd(58)} ${check.value}`);
  lines.push(`  ${all.filter((c) => c.pass).length} of ${all.length} pass`);
  return lines.join('\n');
}
