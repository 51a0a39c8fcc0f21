import { InvalidUserError } from '../errors';
import type { Resolvable, StorageScope, UserId } from '../types';
import { resolveValue } from './resolve';

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
 * their level is reached.
 */
export async function resolveOwner<User>(
  levels: ReadonlyArray<OwnerSource<User> | StorageScope<User> | undefined>,
  rules: OwnerRules<User>,
): Promise<UserId | null> {
  for (const level of levels) {
    if (!level) continue;
    const id = await resolveValue(level.userId);
    if (id !== undefined && id !== null) return checkUserId(id, 'userId');
    const user = await resolveValue(level.user);
    if (user === undefined || user === null || rules.isAnonymous?.(user as User)) continue;
    return checkUserId(rules.idOf(user as User), 'the user object\'s id');
  }
  return null;
}

function checkUserId(id: unknown, what: string): UserId {
  if ((typeof id === 'number' && Number.isFinite(id)) || (typeof id === 'string' && id.length > 0)) return id;
  throw new InvalidUserError(`${what} must be a non-empty string or a finite number (got ${id === null ? 'null' : typeof id})`);
}
