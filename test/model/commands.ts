import fc from 'fast-check';
import { InvalidUserError, UserRequiredError, type OAuthToken, type TypeOrmStorage } from '../../src';
import type { User } from '../support/models';
import {
  callAs,
  describeWho,
  namingArb,
  namingOf,
  ownerArb,
  type Naming,
  type Owner,
  type Refusal,
  type Storages,
  type UserName,
} from './owners';

/** Odd enough that quoting, unicode and the 50-character limit matter. */
export const PROVIDERS = ['github', 'google', "gh'; DROP TABLE x;--", 'пров 🚀', 'x'.repeat(50), 'prov"ider', '%_'];

/** How a row's token is stored: plain JSON, or an envelope under the old or the current key. */
export type Encoding = 'plain' | 'old-key' | 'current-key';

export interface ModelRow {
  token: OAuthToken;
  encoding: Encoding;
}

/** The plain in-memory model the storage is compared with: what each (provider, owner) row holds. */
export interface Model {
  readonly rows: Map<string, ModelRow>;
  /** How the storages under test write: `plain` without encryption, else `current-key`. */
  readonly writes: Encoding;
}

export const rowKey = (provider: string, owner: Owner): string => JSON.stringify([provider, owner]);

/** The system under test: storages over one table, sharing one cache and one set of keys. */
export interface Real {
  storages: Storages;
  users: Record<UserName, User>;
  /** Writers of rows the storages must still read (no encryption; the old key only), or null without encryption. */
  legacy: Record<'plain' | 'old-key', TypeOrmStorage<User>> | null;
  /** Storage calls made, for the figures. */
  steps: { count: number };
}

/** A storage call; `lag` delays its cache calls (ms), for calls issued together. */
export type Op = { provider: string; naming: Naming; lag?: number } & (
  | { kind: 'get' }
  | { kind: 'set'; token: OAuthToken }
  | { kind: 'delete' }
);

type Outcome = PromiseSettledResult<OAuthToken | null | void>;

/**
 * Tokens as providers send them, plus odd extras. Strings are whole graphemes
 * (fast-check's `grapheme` unit), so no U+0000 and no lone surrogates: the
 * model checks behaviour, and bad tokens belong to the stress suite's corpus.
 * `expires_in` comes with `expires_at`, since storages add `expires_at` to a
 * token that lacks it, at a time the model does not know.
 */
const text = fc.string({ unit: 'grapheme', maxLength: 12 });
const expiry = fc.record({
  expires_in: fc.integer({ min: 0, max: 86_400 }),
  expires_at: fc.integer({ min: 1_700_000_000, max: 4_102_444_800 }),
});
export const tokenArb: fc.Arbitrary<OAuthToken> = fc
  .tuple(
    fc.record(
      {
        access_token: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 }),
        token_type: fc.constantFrom('bearer', 'Bearer'),
        refresh_token: text,
        scope: fc.oneof(text, fc.array(text, { maxLength: 3 })),
        ratio: fc.double({ noNaN: true, noDefaultInfinity: true }).filter((n) => !Object.is(n, -0)), // -0 is refused
        extra: fc.dictionary(text, fc.oneof(text, fc.integer(), fc.boolean(), fc.constant(null)), { maxKeys: 3 }),
      },
      { requiredKeys: ['access_token'] },
    ),
    fc.option(expiry, { nil: undefined }),
  )
  .map(([token, expires]) => ({ ...token, ...expires }));

// Mostly one provider, so that sequences often come back to a row they changed.
const providerArb = fc.oneof(
  { weight: 2, arbitrary: fc.constant(PROVIDERS[0]) },
  { weight: 1, arbitrary: fc.constantFrom(...PROVIDERS.slice(1)) },
);

function opArb(provider: fc.Arbitrary<string>, naming: fc.Arbitrary<Naming>): fc.Arbitrary<Op> {
  return fc.oneof(
    { weight: 3, arbitrary: fc.record({ kind: fc.constant('get' as const), provider, naming }) },
    { weight: 3, arbitrary: fc.record({ kind: fc.constant('set' as const), provider, naming, token: tokenArb }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('delete' as const), provider, naming }) },
  );
}

/** Calls for a batch: most reach the cache at once, some a few ms late. */
function laggingOpArb(provider: fc.Arbitrary<string>, naming: fc.Arbitrary<Naming>): fc.Arbitrary<Op> {
  const lag = fc.oneof({ weight: 2, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 4 }) });
  return fc.tuple(opArb(provider, naming), lag).map(([op, lag]) => ({ ...op, lag }));
}

function describeOp(op: Op): string {
  const token = op.kind === 'set' ? `, ${JSON.stringify(op.token)}` : '';
  const lag = op.lag ? `, cache lag ${op.lag} ms` : '';
  return `${op.kind}(${JSON.stringify(op.provider)}, ${describeWho(op.naming.who)} [${op.naming.means}]${token}${lag})`;
}

function perform(real: Real, op: Op): Promise<OAuthToken | null | void> {
  real.steps.count++;
  return callAs<OAuthToken | null | void>(real.storages, real.users, op.naming.who, op.lag ?? 0, (storage, scope) =>
    op.kind === 'get'
      ? storage.get(op.provider, scope)
      : op.kind === 'set'
        ? storage.set(op.provider, op.token, scope)
        : storage.delete(op.provider, scope),
  );
}

function isRefusal(means: Owner | Refusal): means is Refusal {
  return means === 'UserRequiredError' || means === 'InvalidUserError';
}

function expectRefused(outcome: Outcome, refusal: Refusal): void {
  const expected = refusal === 'UserRequiredError' ? UserRequiredError : InvalidUserError;
  if (outcome.status === 'rejected' && outcome.reason instanceof expected) return;
  const got = outcome.status === 'fulfilled' ? `success (${JSON.stringify(outcome.value)})` : String(outcome.reason);
  throw new Error(`expected ${refusal}, got ${got}`);
}

function fulfilled(outcome: Outcome): OAuthToken | null | void {
  if (outcome.status === 'rejected') throw outcome.reason;
  return outcome.value;
}

/** What a write leaves in its row: the token, or nothing. */
function effectOf(model: Model, op: Op): ModelRow | null {
  return op.kind === 'set' ? { token: op.token, encoding: model.writes } : null;
}

function store(model: Model, key: string, row: ModelRow | null): void {
  if (row) model.rows.set(key, row);
  else model.rows.delete(key);
}

/** One call, checked against the model and applied to it. */
class Call implements fc.AsyncCommand<Model, Real> {
  constructor(readonly op: Op) {}

  check(): boolean {
    return true;
  }

  async run(model: Model, real: Real): Promise<void> {
    const [outcome] = await Promise.allSettled([perform(real, this.op)]);
    const { means } = this.op.naming;
    if (isRefusal(means)) return expectRefused(outcome, means);
    const key = rowKey(this.op.provider, means);
    const value = fulfilled(outcome);
    if (this.op.kind === 'get') expect(value).toEqual(model.rows.get(key)?.token ?? null);
    else store(model, key, effectOf(model, this.op));
  }

  toString(): string {
    return describeOp(this.op);
  }
}

/**
 * Calls issued at once (and optionally `rotate()` with them). The model accepts
 * any serialization: a `get` returns the row as it was or as one of the batch's
 * writes left it, and a row written more than once ends as one of those writes;
 * which one is read back once all have resolved, then checked and adopted.
 */
class Together implements fc.AsyncCommand<Model, Real> {
  constructor(
    readonly ops: Op[],
    readonly rotating: boolean,
  ) {}

  check(model: Readonly<Model>): boolean {
    return !this.rotating || model.writes === 'current-key';
  }

  async run(model: Model, real: Real): Promise<void> {
    const before = new Map(model.rows);
    const rotation = this.rotating ? real.storages.open.rotate({ batchSize: 2 }) : Promise.resolve(0);
    const [outcomes, rotated] = await Promise.all([Promise.allSettled(this.ops.map((op) => perform(real, op))), rotation]);

    // Refused calls must be refused; every other call must succeed.
    const values = this.ops.map((op, i) => {
      const { means } = op.naming;
      return isRefusal(means) ? expectRefused(outcomes[i], means) : fulfilled(outcomes[i]);
    });
    const writes = new Map<string, Array<ModelRow | null>>();
    for (const op of this.ops) {
      if (op.kind === 'get' || isRefusal(op.naming.means)) continue;
      const key = rowKey(op.provider, op.naming.means);
      writes.set(key, [...(writes.get(key) ?? []), effectOf(model, op)]);
    }
    this.ops.forEach((op, i) => {
      if (op.kind !== 'get' || isRefusal(op.naming.means)) return;
      const key = rowKey(op.provider, op.naming.means);
      const possible = [before.get(key) ?? null, ...(writes.get(key) ?? [])].map((row) => row?.token ?? null);
      expect(possible).toContainEqual(values[i]);
    });

    if (this.rotating) {
      const stale = [...before].filter(([, row]) => row.encoding !== 'current-key');
      const untouched = stale.filter(([key]) => !writes.has(key));
      // Rows the batch wrote may have been rewritten by rotate() before or after, or skipped.
      expect(rotated).toBeGreaterThanOrEqual(untouched.length);
      expect(rotated).toBeLessThanOrEqual(stale.length);
      for (const [key] of untouched) model.rows.get(key)!.encoding = 'current-key';
    }

    for (const [key, effects] of writes) {
      if (effects.length === 1) {
        store(model, key, effects[0]);
        continue;
      }
      const [provider, owner] = JSON.parse(key) as [string, Owner];
      const [outcome] = await Promise.allSettled([perform(real, { kind: 'get', provider, naming: { who: plainly(owner), means: owner } })]);
      const found = fulfilled(outcome) ?? null;
      expect(effects.map((row) => row?.token ?? null)).toContainEqual(found);
      store(model, key, effects.find((row) => canonical(row?.token ?? null) === canonical(found)) ?? null);
    }
  }

  toString(): string {
    return `together${this.rotating ? ' with rotate()' : ''}[${this.ops.map(describeOp).join(', ')}]`;
  }
}

/** A write through a storage that stores plaintext or encrypts under the old key only, as before a rotation. */
class LegacySet implements fc.AsyncCommand<Model, Real> {
  constructor(
    readonly encoding: 'plain' | 'old-key',
    readonly provider: string,
    readonly owner: Owner,
    readonly token: OAuthToken,
  ) {}

  check(model: Readonly<Model>): boolean {
    return model.writes === 'current-key';
  }

  async run(model: Model, real: Real): Promise<void> {
    real.steps.count++;
    const scope = this.owner === 'app' ? undefined : { user: real.users[this.owner] };
    await real.legacy![this.encoding].set(this.provider, this.token, scope);
    model.rows.set(rowKey(this.provider, this.owner), { token: this.token, encoding: this.encoding });
  }

  toString(): string {
    return `legacySet[${this.encoding}](${JSON.stringify(this.provider)}, ${this.owner}, ${JSON.stringify(this.token)})`;
  }
}

/** `rotate()` rewrites exactly the rows not under the current key. */
class Rotate implements fc.AsyncCommand<Model, Real> {
  constructor(readonly batchSize: number) {}

  check(model: Readonly<Model>): boolean {
    return model.writes === 'current-key';
  }

  async run(model: Model, real: Real): Promise<void> {
    real.steps.count++;
    const stale = [...model.rows.values()].filter((row) => row.encoding !== 'current-key');
    expect(await real.storages.open.rotate({ batchSize: this.batchSize })).toBe(stale.length);
    for (const row of stale) row.encoding = 'current-key';
  }

  toString(): string {
    return `rotate({ batchSize: ${this.batchSize} })`;
  }
}

/** The plainest way to name an owner, for reading a row back. */
function plainly(owner: Owner): Naming['who'] {
  return owner === 'app' ? { storage: 'open' } : { storage: 'open', scope: { user: owner } };
}

/** JSON text with sorted keys: PostgreSQL's jsonb reorders keys, so tokens compare by content. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

/** The commands for one configuration; rotation and legacy rows only where the storages encrypt. */
export function commandArbs(encrypted: boolean): Array<fc.Arbitrary<fc.AsyncCommand<Model, Real>>> {
  const call = opArb(providerArb, namingArb).map((op) => new Call(op));
  // Several calls on one row, each naming its owner its own way, so races meet.
  const sameRow = fc
    .tuple(providerArb, ownerArb)
    .chain(([provider, owner]) => fc.array(laggingOpArb(fc.constant(provider), namingOf(owner)), { minLength: 2, maxLength: 4 }));
  const anyRows = fc.array(laggingOpArb(providerArb, namingArb), { minLength: 2, maxLength: 4 });
  const together = fc
    .tuple(fc.oneof(sameRow, anyRows), encrypted ? fc.boolean() : fc.constant(false))
    .map(([ops, rotating]) => new Together(ops, rotating));
  const arbs: Array<fc.Arbitrary<fc.AsyncCommand<Model, Real>>> = [call, call, call, together];
  if (encrypted) {
    arbs.push(
      fc
        .tuple(fc.constantFrom('plain' as const, 'old-key' as const), providerArb, ownerArb, tokenArb)
        .map(([encoding, provider, owner, token]) => new LegacySet(encoding, provider, owner, token)),
      fc.integer({ min: 1, max: 4 }).map((size) => new Rotate(size)),
    );
  }
  return arbs;
}
