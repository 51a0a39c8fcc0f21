/**
 * Checks a history of concurrent calls on one key (one row) against real
 * time, the way a user of the storage reasons about it: once `set` or
 * `delete` has resolved, nobody may read what was there before it.
 *
 * Each call is an interval [start, ack]: `start` taken before the call was
 * made, `ack` after its promise settled, from `process.hrtime.bigint()`. That
 * clock is CLOCK_MONOTONIC, one clock for every process on the machine, so
 * intervals from different worker processes compare. A recorded interval
 * contains the real one (the call began after `start` and finished before
 * `ack`), so event-loop delays only make the check more lenient, never wrong.
 *
 * A write W is followed by a write W' when W' started after W was
 * acknowledged: then W' took effect after W. Writes that overlap may take
 * effect in either order; the database picks one. So:
 *
 * - a read R may return what W wrote only if W started before R ended and no
 *   acknowledged W' that follows W had ended before R started;
 * - the row ends holding what some W wrote that no acknowledged write follows.
 *   When the last write of a key overlaps no other write, that is exactly the
 *   last acknowledged write: the load test ends each key with such a write.
 *
 * A write whose call failed (a connection killed under it) may or may not have
 * taken effect, some time within its interval: it can explain a read or the
 * final value, but never rules anything out. The empty row before the run is a
 * write of `null` acknowledged before everything; a delete writes `null`.
 */

export interface Call {
  /** What a write wrote or a read returned: a token's id, or null for no token. */
  value: string | null;
  start: bigint;
  ack: bigint;
}

export interface Write extends Call {
  /** False when the call failed: it may or may not have taken effect. */
  acknowledged: boolean;
}

const BEFORE_EVERYTHING: Write = { value: null, start: -1n, ack: -1n, acknowledged: true };

/** For each write (the empty initial row first): when the earliest acknowledged write that follows it ended. */
function supersededAt(writes: readonly Write[]): Array<{ write: Write; at: bigint | null }> {
  const all = [BEFORE_EVERYTHING, ...writes];
  return all.map((write) => {
    let at: bigint | null = null;
    for (const later of all) {
      if (later.acknowledged && later.start > write.ack && (at === null || later.ack < at)) at = later.ack;
    }
    return { write, at };
  });
}

/** Reads that returned something no write could have left there at that time. */
export function staleReads(writes: readonly Write[], reads: readonly Call[]): Call[] {
  const writesWithEnd = supersededAt(writes);
  return reads.filter(
    (read) =>
      !writesWithEnd.some(
        ({ write, at }) => write.value === read.value && write.start < read.ack && (at === null || at >= read.start),
      ),
  );
}

/** What the row may hold once every call has settled. */
export function finalValues(writes: readonly Write[]): Set<string | null> {
  return new Set(supersededAt(writes).filter(({ at }) => at === null).map(({ write }) => write.value));
}
