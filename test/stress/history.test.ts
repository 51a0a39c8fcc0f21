import { finalValues, staleReads, type Call, type Write } from './history';

/** The checker the stress tests rely on must itself catch stale reads and accept any real-time-consistent order. */
const write = (value: string | null, start: number, ack: number, acknowledged = true): Write => ({
  value,
  start: BigInt(start),
  ack: BigInt(ack),
  acknowledged,
});
const read = (value: string | null, start: number, ack: number): Call => ({ value, start: BigInt(start), ack: BigInt(ack) });

describe('history checker', () => {
  it('flags a read of a token that a finished write had replaced, and of a token nobody wrote', () => {
    const writes = [write('a', 1, 2), write('b', 3, 4)];
    expect(staleReads(writes, [read('a', 5, 6)])).toHaveLength(1);
    expect(staleReads(writes, [read(null, 5, 6)])).toHaveLength(1);
    expect(staleReads(writes, [read('c', 0, 9)])).toHaveLength(1);
    expect(staleReads(writes, [read('b', 5, 6), read('a', 2, 3)])).toEqual([]);
  });

  it('accepts either order for overlapping calls', () => {
    const writes = [write('a', 1, 5), write('b', 2, 6)];
    expect(staleReads(writes, [read('a', 7, 8), read('b', 7, 8), read(null, 0, 3)])).toEqual([]);
    expect(finalValues(writes)).toEqual(new Set(['a', 'b']));
  });

  it('never reads from the future: a write must have started before the read ended', () => {
    expect(staleReads([write('a', 5, 6)], [read('a', 1, 4)])).toHaveLength(1);
  });

  it('lets a failed write explain a read or the final row, but not rule anything out', () => {
    const writes = [write('a', 1, 2), write('b', 3, 4, false)];
    expect(staleReads(writes, [read('b', 5, 6), read('a', 5, 6)])).toEqual([]);
    expect(finalValues(writes)).toEqual(new Set(['a', 'b']));
  });

  it('ends with the last acknowledged write when it overlaps no other, and deletes end with no row', () => {
    expect(finalValues([write('a', 1, 2), write('b', 3, 4), write('c', 5, 6)])).toEqual(new Set(['c']));
    expect(finalValues([write('a', 1, 2), write(null, 3, 4)])).toEqual(new Set([null]));
    expect(finalValues([])).toEqual(new Set([null]));
  });
});
