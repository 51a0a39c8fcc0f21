/**
 * `npm run bench`: TypeOrmStorage against hand-written TypeORM code and the
 * raw drivers, on PostgreSQL and SQLite (issue 4). Progress goes to stderr,
 * the report to stdout, and with `--json FILE` the results to FILE. Numbers
 * are not tests: the run exits 0 whatever the ratio checks say, unless
 * `--strict` is given.
 */
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { measureCaches, openRedisCache } from './cache';
import { storageContender, typeormContender, typeormDeleteInsert } from './contenders';
import { describeMachine } from './machine';
import { measureOperations, verifyContenders, type Contenders } from './operations';
import { parseOptions, USAGE, type BenchOptions } from './options';
import { measureConcurrent, measureTableSize, openPostgres, rawPostgres } from './postgres';
import { progress } from './progress';
import { humanReport } from './report';
import { closeAll, withOpen } from './resources';
import { checks, toJson, type Results } from './results';
import { openSqlite, rawSqlite, SERVER_SETUP } from './sqlite';
import { measureJournals } from './sqlite-journal';
import { countStatements } from './statements';

async function main(options: BenchOptions): Promise<number> {
  const { profile } = options;
  const started = performance.now();
  const loadAtStart = loadavg()[0];
  progress(`${profile.name} run`);

  const postgres = await withOpen(openPostgres, async (pg) => {
    const user = pg.userIds[0];
    const contenders: Contenders = {
      storage: storageContender(pg.dataSource),
      typeorm: typeormContender(pg.dataSource),
      raw: rawPostgres(pg.pool, pg.names),
      typeormDeleteInsert: typeormDeleteInsert(pg.dataSource),
    };
    await verifyContenders(contenders, user);
    progress('PostgreSQL: get, get (miss), set, delete');
    const operations = await measureOperations(contenders, user, profile);
    progress('PostgreSQL: 32 concurrent callers');
    const concurrent32 = await measureConcurrent(pg, contenders.storage, contenders.raw, profile);
    progress('cache hits');
    const cache = await withOpen(openRedisCache, (redis) => measureCaches(pg.dataSource, pg.logger, redis.keyv, user, profile));
    const statements = await countStatements(pg.dataSource, pg.logger, user);
    return { serverVersion: pg.serverVersion, poolSize: pg.poolSize, operations, concurrent32, cache, statements };
  });
  progress(`PostgreSQL: get at 1,000 and ${profile.bigTableRows.toLocaleString('en-US')} rows`);
  const tableSize = await withOpen(openPostgres, (small) => withOpen(openPostgres, (big) => measureTableSize(small, big, profile)));

  const sqlite = await withOpen(
    () => openSqlite(SERVER_SETUP),
    (sqlite) =>
      withOpen(
        async () => rawSqlite(sqlite),
        async (raw) => {
          const user = sqlite.userIds[0];
          const contenders: Contenders = {
            storage: storageContender(sqlite.dataSource),
            typeorm: typeormContender(sqlite.dataSource),
            raw: raw.contender,
            typeormDeleteInsert: typeormDeleteInsert(sqlite.dataSource),
          };
          await verifyContenders(contenders, user);
          progress('SQLite: get, get (miss), set, delete');
          const operations = await measureOperations(contenders, user, profile);
          const statements = await countStatements(sqlite.dataSource, sqlite.logger, user);
          return { setup: sqlite.setup, operations, statements };
        },
      ),
  );
  progress('SQLite: journal modes and two writer processes');
  const journal = await measureJournals(profile);

  const results: Results = {
    profile,
    machine: describeMachine(postgres.serverVersion),
    postgres: { poolSize: postgres.poolSize, operations: postgres.operations, concurrent32: postgres.concurrent32, tableSize },
    sqlite: { setup: sqlite.setup, operations: sqlite.operations },
    cache: postgres.cache,
    statements: { postgres: postgres.statements, sqlite: sqlite.statements },
    journal,
    load: { start: loadAtStart, end: loadavg()[0] },
  };
  console.log(humanReport(results));
  if (options.jsonFile) {
    writeFileSync(options.jsonFile, `${JSON.stringify(toJson(results), null, 2)}\n`);
    progress(`wrote ${options.jsonFile}`);
  }
  progress(`done in ${Math.round((performance.now() - started) / 1000)} s`);
  const failed = checks(results).filter((check) => !check.pass).length;
  return options.strict && failed > 0 ? 1 : 0;
}

function start(): void {
  let options: BenchOptions;
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (error) {
    console.error(`${(error as Error).message}\n\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  if (options.help) {
    console.log(USAGE);
    return;
  }
  let interrupted = false;
  const exitCodes = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 } as const;
  for (const [signal, exitCode] of Object.entries(exitCodes)) {
    process.once(signal, () => {
      interrupted = true;
      progress(`${signal}: cleaning up`);
      void closeAll().finally(() => process.exit(exitCode));
    });
  }
  main(options).then(
    (code) => {
      process.exitCode = code;
    },
    (error) => {
      // After Ctrl-C, calls fail on the pools being closed: not worth a stack trace.
      if (!interrupted) console.error(error);
      process.exitCode = 1;
    },
  );
}

start();
