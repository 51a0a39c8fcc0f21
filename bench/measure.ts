import { Bench } from 'tinybench';
import type { Profile } from './options';

/** Latency of one contender, in microseconds. */
export interface Latency {
  readonly p50Us: number;
  readonly p99Us: number;
}

/** One timed call, and what has to be true before it (run untimed). */
export interface LatencyTask {
  readonly run: () => Promise<unknown>;
  /** Runs before every timed call, outside the timing: e.g. inserting the row a `delete` removes. */
  readonly beforeEach?: () => Promise<unknown>;
}

/**
 * Times each task's calls with tinybench (warm-up, then many iterations) and
 * returns the median and p99 of every task.
 *
 * The contenders of one comparison run in several rounds and take turns within
 * each round, so a checkpoint, an autovacuum or a noisy neighbour on this
 * small machine slows all of them rather than just the one that happened to
 * run at that moment. The order rotates and reverses from round to round, so
 * no contender always runs right after the same other one, and the garbage
 * collector runs before each task (when node runs with --expose-gc, as
 * `npm run bench` does): one contender's garbage is not another's pause.
 * Samples of all rounds are pooled before the percentiles are taken, which is
 * why they are computed here and not read from tinybench's statistics.
 *
 * Every task is measured as an async call, raw driver calls included (a
 * synchronous better-sqlite3 call is wrapped in an async function, as an app
 * serving requests would call it), so each column pays the same one promise
 * turn and the differences are the work done.
 */
export async function compareLatency<Name extends string>(
  tasks: Record<Name, LatencyTask | (() => Promise<unknown>)>,
  profile: Profile,
): Promise<Record<Name, Latency>> {
  const names = Object.keys(tasks) as Name[];
  const samples = new Map<Name, number[]>(names.map((name) => [name, []]));
  for (let round = 0; round < profile.rounds; round++) {
    const bench = new Bench({
      time: profile.taskTimeMs,
      iterations: profile.minIterations,
      warmupTime: profile.warmupTimeMs,
      warmupIterations: Math.min(16, profile.minIterations),
      retainSamples: true,
      throws: true,
      setup: () => globalThis.gc?.(),
    });
    const rotated = names.map((_, i) => names[(i + Math.floor(round / 2)) % names.length]);
    const order = round % 2 ? rotated.reverse() : rotated;
    for (const name of order) {
      const given = tasks[name];
      const task: LatencyTask = typeof given === 'function' ? { run: given } : given;
      const beforeEach = task.beforeEach;
      bench.add(name, task.run, { async: true, ...(beforeEach ? { beforeEach: async () => void (await beforeEach()) } : {}) });
    }
    await bench.run();
    for (const task of bench.tasks) {
      const result = task.result;
      if (result.state !== 'completed' || !result.latency.samples) {
        throw new Error(`benchmark task ${task.name} did not complete (${result.state})`);
      }
      // A loop, not push(...samples): a fast task has more samples than a call can take arguments.
      const pooled = samples.get(task.name as Name)!;
      for (const sample of result.latency.samples) pooled.push(sample);
    }
  }
  const latencies = {} as Record<Name, Latency>;
  for (const [name, values] of samples) {
    const sorted = values.sort((a, b) => a - b);
    latencies[name] = { p50Us: msToUs(quantile(sorted, 0.5)), p99Us: msToUs(quantile(sorted, 0.99)) };
  }
  return latencies;
}

/**
 * Operations per second of `callers` concurrent loops that together run
 * `totalOps` calls of `op` (the caller's number is passed in). A fixed amount
 * of work rather than a fixed time, so every contender does the same calls.
 */
async function opsPerSecond(op: (caller: number) => Promise<unknown>, callers: number, totalOps: number): Promise<number> {
  let issued = 0;
  const loop = async (caller: number) => {
    while (issued < totalOps) {
      issued++;
      await op(caller);
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: callers }, (_, caller) => loop(caller)));
  return Math.round(totalOps / ((performance.now() - started) / 1000));
}

/**
 * Throughput of each contender: a warm-up run, then `profile.throughputRounds`
 * runs taking turns (as in {@link compareLatency}); the median round counts.
 */
export async function compareThroughput<Name extends string>(
  ops: Record<Name, (caller: number) => Promise<unknown>>,
  callers: number,
  profile: Profile,
): Promise<Record<Name, { opsPerSec: number }>> {
  const names = Object.keys(ops) as Name[];
  const runs = new Map<Name, number[]>(names.map((name) => [name, []]));
  for (const name of names) await opsPerSecond(ops[name], callers, Math.ceil(profile.concurrentOps / 5));
  for (let round = 0; round < profile.throughputRounds; round++) {
    for (const name of round % 2 ? [...names].reverse() : names) {
      runs.get(name)!.push(await opsPerSecond(ops[name], callers, profile.concurrentOps));
    }
  }
  const result = {} as Record<Name, { opsPerSec: number }>;
  for (const [name, values] of runs) result[name] = { opsPerSec: Math.round(quantile(values.sort((a, b) => a - b), 0.5)) };
  return result;
}

/** The q-quantile of sorted values, interpolating between neighbours. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) throw new Error('no samples');
  const position = (sorted.length - 1) * q;
  const below = Math.floor(position);
  const above = Math.min(below + 1, sorted.length - 1);
  return sorted[below] + (sorted[above] - sorted[below]) * (position - below);
}

/** Microseconds, to a tenth: finer than any difference this machine can show. */
export function msToUs(ms: number): number {
  return Math.round(ms * 10_000) / 10;
}
