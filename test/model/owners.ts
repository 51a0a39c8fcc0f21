import fc from 'fast-check';
import {
  currentRequest,
  currentUser,
  runWithRequest,
  TypeOrmStorage,
  type StorageScope,
  type TypeOrmStorageOptions,
  type UserId,
} from '../../src';
import type { User } from '../support/models';

/**
 * The ways an app names whose token a call is about, and which row each way
 * means, as the README's "Which row a call uses" states it. The model tests
 * draw calls from every combination, so the storage's owner resolution is
 * checked against this reading of the rules, not against its own code.
 */

export const USER_NAMES = ['alice', 'bob', 'carol'] as const;
export type UserName = (typeof USER_NAMES)[number];

/** A row's owner: one of the users, or the app-wide row. */
export type Owner = UserName | 'app';
/** What a call must reject with instead of touching a row. */
export type Refusal = 'UserRequiredError' | 'InvalidUserError';

/** A `user` value: a real user, the guest (anonymous), nobody (null), or an object without its id. */
type UserRef = UserName | 'guest' | 'nobody' | 'no-id';
/** A `userId` value: a user's id as a number or as a string, null, or the empty string. */
type IdRef = UserName | `${UserName} as string` | 'null' | 'empty';

export interface ScopeRef {
  user?: UserRef;
  userId?: IdRef;
}

/**
 * One way to name an owner. Each storage stands for one way apps configure users:
 * `open` has none (`userRequired: false`), `session` takes the user from the
 * request context (`user: currentUser`), `byId` takes an id from the request
 * (`userId: () => ...`). `scope` is the per-call scope, if any.
 */
export type Who =
  | { storage: 'open'; scope?: ScopeRef }
  | { storage: 'session'; login: UserRef; scope?: ScopeRef }
  | { storage: 'byId'; loginId: IdRef; scope?: ScopeRef };

export type StorageName = Who['storage'];

export interface Naming {
  who: Who;
  means: Owner | Refusal;
}

/** The README's rule: scope before configuration, `userId` before `user`; null and anonymous fall through. */
export function meaning(who: Who): Owner | Refusal {
  const configured: ScopeRef =
    who.storage === 'session' ? { user: who.login } : who.storage === 'byId' ? { userId: who.loginId } : {};
  for (const level of [who.scope ?? {}, configured]) {
    if (level.userId !== undefined && level.userId !== 'null') {
      return level.userId === 'empty' ? 'InvalidUserError' : (level.userId.split(' ')[0] as UserName);
    }
    if (level.user === 'no-id') return 'InvalidUserError';
    if (level.user !== undefined && level.user !== 'guest' && level.user !== 'nobody') return level.user;
  }
  return who.storage === 'open' ? 'app' : 'UserRequiredError';
}

const USER_REFS: UserRef[] = [...USER_NAMES, 'guest', 'nobody', 'no-id'];
const ID_REFS: IdRef[] = [...USER_NAMES, ...USER_NAMES.map((name) => `${name} as string` as const), 'null', 'empty'];
const SCOPES: Array<ScopeRef | undefined> = [
  undefined,
  {},
  ...USER_REFS.map((user) => ({ user })),
  ...ID_REFS.map((userId) => ({ userId })),
  ...USER_REFS.flatMap((user) => ID_REFS.map((userId) => ({ user, userId }))),
];
const WHOS: Who[] = SCOPES.flatMap((scope) => [
  { storage: 'open' as const, scope },
  ...USER_REFS.map((login) => ({ storage: 'session' as const, login, scope })),
  ...ID_REFS.map((loginId) => ({ storage: 'byId' as const, loginId, scope })),
]);

/** Every combination, grouped by what it means. */
const BY_MEANING = new Map<Owner | Refusal, Naming[]>();
for (const who of WHOS) {
  const means = meaning(who);
  BY_MEANING.set(means, [...(BY_MEANING.get(means) ?? []), { who, means }]);
}

export const ownerArb: fc.Arbitrary<Owner> = fc.constantFrom<Owner>('app', ...USER_NAMES);

/** Any way of naming `owner`. */
export function namingOf(owner: Owner): fc.Arbitrary<Naming> {
  return fc.constantFrom(...BY_MEANING.get(owner)!);
}

/** Mostly calls that name a row, sometimes calls that must be refused. */
export const namingArb: fc.Arbitrary<Naming> = fc.oneof(
  { weight: 6, arbitrary: ownerArb.chain(namingOf) },
  { weight: 1, arbitrary: fc.constantFrom(...BY_MEANING.get('UserRequiredError')!, ...BY_MEANING.get('InvalidUserError')!) },
);

export function describeWho(who: Who): string {
  const scope = who.scope === undefined ? '' : `, scope ${JSON.stringify(who.scope)}`;
  const configured = who.storage === 'session' ? ` login=${who.login}` : who.storage === 'byId' ? ` loginId=${who.loginId}` : '';
  return `${who.storage}${configured}${scope}`;
}

/** The storages of one configuration, one per way of configuring users. */
export type Storages = Record<StorageName, TypeOrmStorage<User>>;

export const guest = { id: 0, name: 'guest', anonymous: true } as User & { anonymous: true };
const isAnonymous = (user: User) => (user as Partial<typeof guest>).anonymous === true;

/** Builds the three storages over the same table, cache and keys. */
export function makeStorages(make: (options: TypeOrmStorageOptions<User>) => TypeOrmStorage<User>): Storages {
  return {
    open: make({ userRequired: false, isAnonymous }),
    session: make({ user: currentUser<User>, isAnonymous }),
    byId: make({ userId: () => currentRequest<{ userId?: UserId | null }>()?.userId ?? null, isAnonymous }),
  };
}

/**
 * Runs `call` on the storage `who` names, inside a request carrying its
 * logged-in user or id, and how long (ms) the request's cache calls should lag
 * (see {@link requestLag}).
 */
export function callAs<T>(
  storages: Storages,
  users: Record<UserName, User>,
  who: Who,
  lag: number,
  call: (storage: TypeOrmStorage<User>, scope: StorageScope<User> | undefined) => Promise<T>,
): Promise<T> {
  const userOf = (ref: UserRef): User | null =>
    ref === 'guest' ? guest : ref === 'nobody' ? null : ref === 'no-id' ? ({ name: 'no id' } as User) : users[ref];
  const idOf = (ref: IdRef): UserId | null => {
    if (ref === 'null') return null;
    if (ref === 'empty') return '';
    const [name, asString] = ref.split(' ');
    const id = users[name as UserName].id;
    return asString ? String(id) : id;
  };
  const scope = who.scope && {
    ...(who.scope.user !== undefined && { user: userOf(who.scope.user) }),
    ...(who.scope.userId !== undefined && { userId: idOf(who.scope.userId) }),
  };
  const request =
    who.storage === 'session' ? { user: userOf(who.login) } : who.storage === 'byId' ? { userId: idOf(who.loginId) } : {};
  return runWithRequest({ ...request, lag }, () => call(storages[who.storage], scope));
}

/**
 * How long the current call's cache calls lag, in ms. A cache wrapper reads it,
 * so that generated calls issued together reach the cache in generated orders
 * (a fill landing after another call's write, say), and shrinking removes lags.
 */
export function requestLag(): number {
  return currentRequest<{ lag?: number }>()?.lag ?? 0;
}
