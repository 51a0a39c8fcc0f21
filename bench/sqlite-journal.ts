import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { PROVIDERS, storageContender, TOKEN } from './contenders';
import { compareLatency, msToUs, quantile, type Latency } from './measure';
import type { Profile } from './options';
import { withOpen } from './resources';
import { describeSetup, openSqlite, type SqliteBench, type SqliteSetup } from './sqlite';

/** What the parent tells a writer process, and what it answers. */
export interface WriterJob {
  readonly file: string;
  readonly setup: SqliteSetup;
  readonly userId: number;
  readonly ops: number;
}
export interface WriterReport {
  readonly ok: number;
  /** Writes that failed with SQLITE_BUSY: the lock stayed taken past the busy timeout, or SQLite would not wait for it. */
  readonly busy: number;
  readonly elapsedMs: number;
  /** Latency of each successful write, in ms. */
  readonly latenciesMs: number[];
}

const DEFAULTS: SqliteSetup = { journal: 'delete', synchronous: 'full', busyTimeoutMs: 5000 };
const WAL: SqliteSetup = { journal: 'wal', synchronous: 'full', busyTimeoutMs: 5000 };
const WAL_NORMAL: SqliteSetup = { journal: 'wal', synchronous: 'normal', busyTimeoutMs: 5000 };

export interface JournalLatency {
  readonly setup: SqliteSetup;
  readonly set: Latency;
  readonly get: Latency;
}

export interface WriterResult {
  readonly setup: SqliteSetup;
  /** Successful writes per second of both processes together. */
  readonly opsPerSec: number;
  readonly busyErrors: number;
  readonly attempted: number;
  readonly latency: Latency;
}

export interface JournalResults {
  readonly latency: JournalLatency[];
  readonly writers: WriterResult[];
}

/**
 * Point 3 of issue 4: TypeORM's SQLite defaults (rollback journal; its
 * better-sqlite3 driver already sets a 5 s busy timeout) against WAL, and
 * WAL with synchronous=NORMAL. First `set` and `get` latency of the storage
 * in one process, then two processes writing at once (each its own user's
 * row), which is where the journal and the busy timeout matter; the writers
 * also run without a busy timeout, as SQLite's own default is.
 */
export async function measureJournals(profile: Profile): Promise<JournalResults> {
  const open = (setup: SqliteSetup) => () => openSqlite(setup);
  const latency = await withOpen(open(DEFAULTS), (defaults) =>
    withOpen(open(WAL), (wal) => withOpen(open(WAL_NORMAL), (walNormal) => measureSetups([defaults, wal, walNormal], profile))),
  );
  const writers: WriterResult[] = [];
  for (const setup of [{ ...DEFAULTS, busyTimeoutMs: 0 }, DEFAULTS, { ...WAL, busyTimeoutMs: 0 }, WAL, WAL_NORMAL]) {
    writers.push(await withOpen(open(setup), (sqlite) => twoWriters(sqlite, profile.sqliteWriterOps)));
  }
  return { latency, writers };
}

/** Storage `set` and `get` latency on each setup's file, in one comparison each. */
async function measureSetups(benches: readonly SqliteBench[], profile: Profile): Promise<JournalLatency[]> {
  const sets: Record<string, () => Promise<unknown>> = {};
  const gets: Record<string, () => Promise<unknown>> = {};
  for (const sqlite of benches) {
    const storage = storageContender(sqlite.dataSource);
    const [userId] = sqlite.userIds;
    await storage.set(PROVIDERS.hit, userId, TOKEN);
    sets[describeSetup(sqlite.setup)] = () => storage.set(PROVIDERS.hit, userId, TOKEN);
    gets[describeSetup(sqlite.setup)] = () => storage.get(PROVIDERS.hit, userId);
  }
  const setLatency = await compareLatency(sets, profile);
  const getLatency = await compareLatency(gets, profile);
  return benches.map(({ setup }) => ({ setup, set: setLatency[describeSetup(setup)], get: getLatency[describeSetup(setup)] }));
}

/** Two processes, each `ops` storage `set`s on its own user's row of the file, started together. */
async function twoWriters(sqlite: SqliteBench, ops: number): Promise<WriterResult> {
  const { setup } = sqlite;
  const children: ChildProcess[] = [];
  try {
    const reports = sqlite.userIds.map((userId) => {
      const child = fork(join(__dirname, 'sqlite-writer.ts'), [], { execArgv: ['-r', 'ts-node/register/transpile-only'] });
      children.push(child);
      const ready = nextMessage(child);
      child.send({ file: sqlite.file, setup, userId, ops } satisfies WriterJob);
      return { child, ready };
    });
    await Promise.all(reports.map((r) => r.ready));
    const results = reports.map(({ child }) => nextMessage<WriterReport>(child));
    for (const { child } of reports) child.send('go');
    const done = await Promise.all(results);
    const ok = done.reduce((sum, r) => sum + r.ok, 0);
    const latencies = done.flatMap((r) => r.latenciesMs).sort((a, b) => a - b);
    return {
      setup,
      opsPerSec: Math.round(ok / (Math.max(...done.map((r) => r.elapsedMs)) / 1000)),
      busyErrors: done.reduce((sum, r) => sum + r.busy, 0),
      attempted: ops * done.length,
      latency: latencies.length
        ? { p50Us: msToUs(quantile(latencies, 0.5)), p99Us: msToUs(quantile(latencies, 0.99)) }
        : { p50Us: NaN, p99Us: NaN },
    };
  } finally {
    const running = children.filter((child) => child.exitCode === null && child.signalCode === null);
    for (const child of running) child.kill();
    await Promise.all(running.map((child) => once(child, 'exit')));
  }
}

/** The child's next message; fails if the child exits without sending one. */
function nextMessage<T>(child: ChildProcess): Promise<T> {
  return new Promise((resolve, reject) => {
    const exited = (code: number | null) => reject(new Error(`a SQLite writer process exited (${code}) without answering`));
    child.once('exit', exited);
    child.once('message', (message) => {
      child.off('exit', exited);
      resolve(message as T);
    });
  });
}
