import { deepStrictEqual, strictEqual } from 'node:assert';
import { PROVIDERS, TOKEN, type Contender } from './contenders';
import { compareLatency, type Latency } from './measure';
import type { Profile } from './options';

/** The three ways of doing an operation, compared on one database. */
export interface Contenders {
  readonly storage: Contender;
  readonly typeorm: Contender;
  readonly raw: Contender;
  /** Flask-Dance's delete-then-insert `set`. */
  readonly typeormDeleteInsert: Contender['set'];
}

type Trio = Record<'storage' | 'typeorm' | 'raw', Latency>;

export interface OperationLatencies {
  readonly get: Trio;
  readonly getMiss: Trio;
  readonly set: Trio & { typeormDeleteInsert: Latency };
  readonly delete: Trio;
}

/**
 * Checks that every contender really does the work before any of them is
 * timed: reads return the stored token, misses return null, deletes delete.
 * A contender that silently did less would look fast.
 */
export async function verifyContenders(contenders: Contenders, userId: number): Promise<void> {
  const { storage, typeorm, raw, typeormDeleteInsert } = contenders;
  const { hit, miss, deleted } = PROVIDERS;
  const readers = { storage, typeorm, raw };
  const writers = { ...readers, typeormDeleteInsert: { ...raw, set: typeormDeleteInsert } };
  for (const [writer, { set }] of Object.entries(writers)) {
    const written = { ...TOKEN, access_token: writer };
    await set(hit, userId, written);
    for (const [reader, { get }] of Object.entries(readers)) {
      deepStrictEqual(await get(hit, userId), written, `${reader} reads what ${writer} wrote`);
    }
  }
  for (const [name, contender] of Object.entries(readers)) {
    strictEqual(await contender.get(miss, userId), null, `${name} returns null for a missing token`);
    await raw.set(deleted, userId, TOKEN);
    await contender.delete(deleted, userId);
    strictEqual(await raw.get(deleted, userId), null, `${name} deletes the row`);
  }
  await raw.set(hit, userId, TOKEN);
}

/**
 * `get` of an existing row, `get` of a missing one, `set` replacing an
 * existing row, and `delete` of an existing row, for each contender, on one user.
 *
 * `delete` needs a row to delete on every call: a tinybench `beforeEach` hook
 * inserts it through the raw driver, outside the timed call, the same way for
 * every contender. (Timing set+delete pairs and subtracting a set would add
 * the noise of two measurements to the result.)
 */
export async function measureOperations(contenders: Contenders, userId: number, profile: Profile): Promise<OperationLatencies> {
  const { storage, typeorm, raw, typeormDeleteInsert } = contenders;
  const { hit, miss, deleted } = PROVIDERS;
  await raw.set(hit, userId, TOKEN);
  await raw.delete(miss, userId);
  const all = (call: (contender: Contender) => Promise<unknown>) => ({
    storage: () => call(storage),
    typeorm: () => call(typeorm),
    raw: () => call(raw),
  });
  const seedDeleted = () => raw.set(deleted, userId, TOKEN);
  const deleteOf = (contender: Contender) => ({ run: () => contender.delete(deleted, userId), beforeEach: seedDeleted });
  return {
    get: await compareLatency(all((c) => c.get(hit, userId)), profile),
    getMiss: await compareLatency(all((c) => c.get(miss, userId)), profile),
    set: await compareLatency(
      { ...all((c) => c.set(hit, userId, TOKEN)), typeormDeleteInsert: () => typeormDeleteInsert(hit, userId, TOKEN) },
      profile,
    ),
    delete: await compareLatency({ storage: deleteOf(storage), typeorm: deleteOf(typeorm), raw: deleteOf(raw) }, profile),
  };
}
