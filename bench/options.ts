import { parseArgs } from 'node:util';

/** How long and how often each measurement runs. */
export interface Profile {
  readonly name: 'quick' | 'full';
  /** Rounds of every latency comparison; the contenders take turns within each round. */
  readonly rounds: number;
  /** tinybench's time budget per task and round, in ms. */
  readonly taskTimeMs: number;
  readonly warmupTimeMs: number;
  /** tinybench's minimum number of measured calls per task and round. */
  readonly minIterations: number;
  /** Operations per throughput round with 32 callers. */
  readonly concurrentOps: number;
  /** Throughput rounds per contender (odd, so one round is the median). */
  readonly throughputRounds: number;
  /** Rows in the table for the large-table `get` (reported as `rows1m`). */
  readonly bigTableRows: number;
  /** Writes per process in the two-process SQLite writer run. */
  readonly sqliteWriterOps: number;
}

const FULL: Profile = {
  name: 'full',
  // Many short rounds rather than a few long ones: on a shared 2-core machine
  // the load drifts within seconds, and short turns spread it over all contenders.
  rounds: 15,
  taskTimeMs: 200,
  warmupTimeMs: 50,
  minIterations: 50,
  concurrentOps: 10_000,
  throughputRounds: 5,
  bigTableRows: 1_000_000,
  sqliteWriterOps: 1_000,
};

const QUICK: Profile = {
  name: 'quick',
  rounds: 2,
  taskTimeMs: 50,
  warmupTimeMs: 20,
  minIterations: 20,
  concurrentOps: 1_000,
  throughputRounds: 3,
  bigTableRows: 100_000,
  sqliteWriterOps: 100,
};

export interface BenchOptions {
  readonly profile: Profile;
  /** Where to write the JSON results, if anywhere. */
  readonly jsonFile: string | undefined;
  /** Exit 1 when a ratio check of issue 4 fails. */
  readonly strict: boolean;
  /** Print the usage and do nothing else. */
  readonly help: boolean;
}

const rows = (profile: Profile) => profile.bigTableRows.toLocaleString('en-US');

export const USAGE = `Usage: npm run bench -- [--quick] [--json FILE] [--strict]

  --quick      smoke run, under a minute: short rounds, ${rows(QUICK)} rows instead of ${rows(FULL)} in the big table
  --json FILE  also write the results as JSON to FILE
  --strict     exit 1 when a ratio check fails (by default the checks are only reported)`;

/** Reads the command line; throws on anything unknown (the caller prints {@link USAGE}). */
export function parseOptions(argv: string[]): BenchOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean', default: false },
      json: { type: 'string' },
      strict: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  return { profile: values.quick ? QUICK : FULL, jsonFile: values.json, strict: values.strict, help: values.help };
}
