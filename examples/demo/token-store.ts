import KeyvRedis from '@keyv/redis';
import Keyv from 'keyv';
import type { DataSource } from 'typeorm';
import { currentSession, currentUser, SessionStorage, TypeOrmStorage, type OAuthToken, type RefreshFunction } from '../../src';
import { OAuth } from '../entities/oauth.entity';
import type { DemoConfig } from './config';
import { describeDatabase } from './database';

/** The name the demo's tokens are stored under, as `'github'` would be for GitHub. */
export const PROVIDER = 'demo-id';

/** What the login session remembers about the logged-in user: enough for TypeOrmStorage, which reads `id`. */
export interface SessionUser {
  id: number;
  name: string;
}

/** When a user's token row was first written and last replaced. */
export interface StoredAt {
  createdAt: Date;
  updatedAt: Date;
}

interface TokenStoreBase {
  /** Where tokens live, for the page footer. */
  readonly description: string;
  /**
   * The current request's user's token, renewed first with `refresh` when it
   * is about to expire, where the storage can (see {@link DatabaseTokenStore}).
   */
  validToken(refresh: RefreshFunction): Promise<OAuthToken | null>;
  /** When `user`'s token row was written, or null when there is none or tokens live in the session. */
  storedAt(user: SessionUser): Promise<StoredAt | null>;
  close(): Promise<void>;
}

/**
 * Tokens in the database through TypeOrmStorage. Its `storage` reads and
 * writes the current request's user's token: no route passes a user. It also
 * renews tokens with `getValid`, once per expiry however many requests (and
 * the background job) ask, and deletes a token whose grant the provider refuses.
 */
export interface DatabaseTokenStore extends TokenStoreBase {
  readonly kind: 'database';
  readonly storage: TypeOrmStorage<SessionUser>;
}

/**
 * Tokens in the login session through SessionStorage, which has no
 * `getValid`: `validToken` hands the token out as stored, expired or not.
 */
export interface SessionTokenStore extends TokenStoreBase {
  readonly kind: 'session';
  readonly storage: SessionStorage;
}

/** The storage the routes use, plus what the pages say about it. */
export type TokenStore = DatabaseTokenStore | SessionTokenStore;

/** TypeOrmStorage scoped by the request context (with a Redis cache when REDIS_URL is set), or SessionStorage. */
export function createTokenStore(config: DemoConfig, dataSource: DataSource): TokenStore {
  if (config.tokenStorage === 'session') {
    const storage = new SessionStorage({ session: currentSession });
    return {
      kind: 'session',
      storage,
      description: 'SessionStorage: tokens live in the login session (in the app\'s memory)',
      validToken: () => storage.get(PROVIDER),
      storedAt: async () => null,
      close: async () => {},
    };
  }

  const cache = config.redisUrl ? new Keyv({ store: new KeyvRedis(config.redisUrl), namespace: 'oauth-demo' }) : undefined;
  // TypeOrmStorage already falls back to the database when the cache fails; this only keeps the reason visible.
  cache?.on('error', (error: unknown) => console.warn(`Redis cache: ${String(error)}`));
  const repository = dataSource.getRepository(OAuth);
  const storage = new TypeOrmStorage<SessionUser>(dataSource, OAuth, {
    user: currentUser,
    cache,
    cacheTtl: 5 * 60_000,
    refreshLeewaySeconds: config.refreshLeewaySeconds,
    // A grant the user revoked at Demo ID cannot come back: the page then says "not connected" and offers Connect.
    onInvalidGrant: 'delete',
    // A page request may be the one waiting for the provider; it should fail with a message, not hang for long.
    refreshTimeout: 10_000,
  });
  return {
    kind: 'database',
    storage,
    description: `TypeOrmStorage on ${describeDatabase(dataSource)}${cache ? ', cached in Redis (REDIS_URL)' : ''}`,
    validToken: (refresh) => storage.getValid(PROVIDER, refresh),
    async storedAt(user) {
      // Only the timestamps: the token column is not even read.
      return repository.findOne({ select: { createdAt: true, updatedAt: true }, where: { provider: PROVIDER, userId: user.id } });
    },
    close: async () => {
      await cache?.disconnect();
    },
  };
}
