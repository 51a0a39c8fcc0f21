import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import KeyvRedis from '@keyv/redis';
import { Client } from 'pg';
import { LOCK_CLASS } from '../bench/postgres-schemas';
import { checks, type Results } from '../bench/results';
import { adminQuery } from './support/databases';
import { DATABASE_URL, describeWith, postgresUp, REDIS_URL, redisUp } from './support/services';

const root = join(__dirname, '..');
const npm = (args: string[]) =>
  promisify(execFile)('npm', ['run', '--silent', 'bench', '--', ...args], { cwd: root, maxBuffer: 16 * 1024 * 1024 });

// Numbers are never asserted here (speed belongs to the benchmark): only what
// the JSON holds, that the checks are computed right, and that a run leaves
// nothing behind.

/** Whether these PostgreSQL schemas still exist. */
async function existingSchemas(schemas: string[]): Promise<string[]> {
  const client = new Client({ connectionString: DATABASE_URL });
  await client.connect();
  try {
    const { rows } = await client.query('SELECT nspname FROM pg_namespace WHERE nspname = ANY($1)', [schemas]);
    return rows.map((row) => row.nspname);
  } finally {
    await client.end();
  }
}

const latency = { p50Us: expect.any(Number), p99Us: expect.any(Number) };
const trio = { storage: latency, typeorm: latency, raw: latency };
const operations = { get: trio, getMiss: trio, set: { ...trio, typeormDeleteInsert: latency }, delete: trio };

describeWith(postgresUp && redisUp)('npm run bench -- --quick --json FILE', () => {
  let dir: string;
  let file: string;
  // What a killed run leaves behind: a benchmark schema that no run holds the advisory lock of;
  // and the schema of a run that is still going, which holds it.
  const abandoned = `oauth_bench_${Date.now().toString(16)}a`;
  const live = `oauth_bench_${Date.now().toString(16)}b`;
  const liveRun = new Client({ connectionString: DATABASE_URL });
  let run: { stdout: string; stderr: string };
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await liveRun.end();
    for (const schema of [abandoned, live]) await adminQuery(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'oauth-bench-test-'));
    file = join(dir, 'bench.json');
    await liveRun.connect();
    await liveRun.query(`SELECT pg_advisory_lock(${LOCK_CLASS}, hashtext($1))`, [live]);
    for (const schema of [abandoned, live]) await adminQuery(`CREATE SCHEMA "${schema}"`);
    run = await npm(['--quick', '--json', file]);
  }, 180_000);

  it('writes the JSON shape of issue 4, every number positive, plus the checks', () => {
    const json = JSON.parse(readFileSync(file, 'utf8'));
    expect(json).toEqual({
      postgres: {
        ...operations,
        concurrent32: { storage: { opsPerSec: expect.any(Number) }, raw: { opsPerSec: expect.any(Number) } },
        rows1k: { p50Us: expect.any(Number) },
        rows1m: { p50Us: expect.any(Number) },
      },
      sqlite: operations,
      cache: { memory: { p50Us: expect.any(Number) }, redis: { p50Us: expect.any(Number) } },
      statements: { get: expect.any(Number), getCached: expect.any(Number), set: expect.any(Number), delete: expect.any(Number) },
      checks: expect.any(Array),
    });
    const numbers = (value: unknown): number[] =>
      typeof value === 'number' ? [value] : value && typeof value === 'object' ? Object.values(value).flatMap(numbers) : [];
    const { statements, checks: checked, ...measured } = json;
    expect(numbers(measured).filter((n) => !(Number.isFinite(n) && n > 0))).toEqual([]);
    expect(numbers(statements).every(Number.isInteger)).toBe(true);
    expect(checked.length).toBe(14);
    for (const check of checked) {
      expect(check).toEqual({
        name: expect.any(String),
        value: expect.any(Number),
        limit: expect.any(Number),
        pass: expect.any(Boolean),
      });
    }
  });

  it('prints the tables, says that --quick shrinks the big table, and reports every check', () => {
    const headings = ['PostgreSQL (', 'SQLite (', 'Cached get', '32 concurrent callers', 'SQL statements per call', 'two processes writing'];
    for (const heading of headings) expect(run.stdout).toContain(heading);
    expect(run.stdout).toContain('--quick: "rows1m" is measured at 100,000 rows');
    expect(run.stdout.match(/^ {2}(PASS|FAIL) {2}/gm)).toHaveLength(14);
  });

  it('drops its PostgreSQL schemas and clears its Redis namespace', async () => {
    const schemas = [...run.stderr.matchAll(/PostgreSQL schema (oauth_bench_\w+) created/g)].map((m) => m[1]);
    expect(schemas).toHaveLength(3);
    for (const schema of schemas) expect(run.stderr).toContain(`PostgreSQL schema ${schema} dropped`);
    expect(await existingSchemas(schemas)).toEqual([]);

    const [, namespace] = run.stderr.match(/Redis namespace (oauth-bench-\w+) cleared/) ?? [];
    expect(namespace).toBeDefined();
    const redis = new KeyvRedis(REDIS_URL);
    try {
      expect(await (await redis.getClient()).keys(`${namespace}*`)).toEqual([]);
    } finally {
      await redis.disconnect();
    }
  });

  it('drops the schema a killed run left behind, never one a live run holds', async () => {
    // Whichever run dropped it (another one may be going on this machine), the abandoned schema is gone.
    expect(await existingSchemas([abandoned, live])).toEqual([live]);
  });
});

describeWith(postgresUp)('npm run bench, interrupted', () => {
  it('drops its schema on Ctrl-C and exits 130', async () => {
    const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', 'bench/run.ts', '--quick'], { cwd: root });
    let stderr = '';
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
      // Once, in the middle of the first measurement, with the schema full of rows (a second Ctrl-C would not wait).
      if (stderr.includes('PostgreSQL: get, get (miss), set, delete') && !child.killed) child.kill('SIGINT');
    });
    const [code] = await once(child, 'exit');
    expect(code).toBe(130);
    const [, schema] = stderr.match(/PostgreSQL schema (oauth_bench_\w+) created/) ?? [];
    expect(stderr).toContain(`PostgreSQL schema ${schema} dropped`);
    expect(await existingSchemas([schema])).toEqual([]);
  }, 60_000);
});

describe('npm run bench options', () => {
  it('--help prints the usage and runs nothing', async () => {
    const { stdout } = await npm(['--help']);
    expect(stdout).toContain('Usage: npm run bench -- [--quick] [--json FILE] [--strict]');
  });

  it('an unknown option fails with the usage, before touching any database', async () => {
    const failure = await npm(['--fast']).catch((error) => error);
    expect(failure.code).toBe(2);
    expect(failure.stderr).toContain("Unknown option '--fast'");
    expect(failure.stderr).toContain('Usage: npm run bench');
  });
});

describe('ratio checks', () => {
  const at = (p50Us: number) => ({ p50Us, p99Us: p50Us * 2 });
  const trioAt = (storage: number, typeorm: number, raw: number) => ({ storage: at(storage), typeorm: at(typeorm), raw: at(raw) });
  const results = (overrides: { pgGetStorage: number; bigRowsP50: number; getCached: number }) =>
    ({
      postgres: {
        operations: {
          get: trioAt(overrides.pgGetStorage, 400, 100),
          getMiss: trioAt(100, 400, 100),
          set: { ...trioAt(200, 400, 200), typeormDeleteInsert: at(900) },
          delete: trioAt(200, 400, 200),
        },
        concurrent32: { storage: { opsPerSec: 9_000 }, raw: { opsPerSec: 10_000 } },
        tableSize: { rows1k: at(100), big: at(overrides.bigRowsP50), bigRows: 1_000_000, plans: ['Index Scan', 'Index Scan'] },
      },
      sqlite: { operations: { get: trioAt(10, 40, 8) } },
      cache: { memory: at(1), redis: at(80) },
      statements: { postgres: { storage: { get: 1, getCached: overrides.getCached, set: 1, delete: 1 } } },
    }) as unknown as Results;
  const byName = (list: ReturnType<typeof checks>) => Object.fromEntries(list.map((c) => [c.name, c]));

  it('pass at the limits of issue 4 and fail beyond them', () => {
    const passing = byName(checks(results({ pgGetStorage: 115, bigRowsP50: 130, getCached: 0 })));
    expect(Object.values(passing).filter((c) => !c.pass)).toEqual([]);
    const name = 'postgres get: storage/raw <= 1.15';
    expect(passing[name]).toEqual({ name, value: 1.15, limit: 1.15, pass: true });

    const failing = byName(checks(results({ pgGetStorage: 130, bigRowsP50: 140, getCached: 1 })));
    expect(Object.values(failing).filter((c) => !c.pass).map((c) => c.name)).toEqual([
      'postgres get: storage/raw <= 1.15',
      'rows1m (1,000,000 rows): rows1m/rows1k <= 1.3',
      'statements getCached == 0',
    ]);
  });
});
