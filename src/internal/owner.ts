import { InvalidUserError } from '../errors';
import type { Resolvable, StorageScope, UserId } from '../types';
import { resolveValue } from './resolve';
import { isStorableString } from './validate';

/** Where the owner of a call may come from, most specific first. */
export interface OwnerSource<User> {
  user?: Resolvable<User | null | undefined>;
  userId?: Resolvable<UserId | null | undefined>;
}

export interface OwnerRules<User> {
  isAnonymous?: (user: User) => boolean;
  /** Reads the id from a user object. */
  idOf: (user: User) => unknown;
}

/**
 * The id of the user a call is about, or null for "no user". Levels are tried
 * in order (the call's scope, then the storage's configuration); within a level
 * `userId` wins over `user`. A missing, null or anonymous user falls through
 * to the next level, as Flask-Dance does. Functions are only called when
 * their level is reached. Answers synchronously until a level holds a
 * function: `get` runs on every request, and most calls name their user
 * outright.
 */
export function resolveOwner<User>(
  levels: ReadonlyArray<OwnerSource<User> | StorageScope<User> | undefined>,
  rules: OwnerRules<User>,
): UserId | null | Promise<UserId | null> {
  for (let i = 0; i < levels.length; i++) {
    const level = levels[i];
    if (!level) continue;
    if (typeof level.userId === 'function' || typeof level.user === 'function') return resolveFrom(levels.slice(i), rules);
    const owner = ownerOf(level.userId as UserId | null | undefined, level.user as User | null | undefined, rules);
    if (owner !== null) return owner;
  }
  return null;
}

async function resolveFrom<User>(
  levels: ReadonlyArray<OwnerSource<User> | StorageScope<User> | undefined>,
  rules: OwnerRules<User>,
): Promise<UserId | null> {
  for (const level of levels) {
    if (!level) continue;
    const id = await resolveValue(level.userId);
    // The user function runs only when the level's userId gave nothing.
    const owner = ownerOf(id, id === undefined || id === null ? await resolveValue(level.user) : undefined, rules);
    if (owner !== null) return owner;
  }
  return null;
}

function ownerOf<User>(id: UserId | null | undefined, user: User | null | undefined, rules: OwnerRules<User>): UserId | null {
  if (id !== undefined && id !== null) return checkUserId(id, 'userId');
  if (user === undefined || user === null || rules.isAnonymous?.(user)) return null;
  return checkUserId(rules.idOf(user), "the user object's id");
}

function checkUserId(id: unknown, what: string): UserId {
  if ((typeof id === 'number' && Number.isFinite(id)) || (typeof id === 'string' && id.length > 0 && isStorableString(id))) return id;
  throw new InvalidUserError(`${what} must be a non-empty string or a finite number (got ${id === null ? 'null' : typeof id})`);
}
