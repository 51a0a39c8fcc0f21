import KeyvRedis from '@keyv/redis';
import Keyv from 'keyv';
import type { DataSource } from 'typeorm';
import { currentSession, currentUser, SessionStorage, TypeOrmStorage, type TokenStorage } from '../../src';
import { OAuth } from '../entities/oauth.entity';
import type { DemoConfig, TokenStorageKind } from './config';
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

/** The storage the routes use, plus what the pages say about it. */
export interface TokenStore {
  readonly kind: TokenStorageKind;
  /** Reads and writes the current request's user's token: no route passes a user. */
  readonly storage: TokenStorage;
  /** Where tokens live, for the page footer. */
  readonly description: string;
  /** When `user`'s token row was written, or null when there is none or tokens live in the session. */
  storedAt(user: SessionUser): Promise<StoredAt | null>;
  close(): Promise<void>;
}

/** TypeOrmStorage scoped by the request context (with a Redis cache when REDIS_URL is set), or SessionStorage. */
export function createTokenStore(config: DemoConfig, dataSource: DataSource): TokenStore {
  if (config.tokenStorage === 'session') {
    return {
      kind: 'session',
      storage: new SessionStorage({ session: currentSession }),
      description: 'SessionStorage: tokens live in the login session (in the app\'s memory)',
      storedAt: async () => null,
      close: async () => {},
    };
  }

  const cache = config.redisUrl ? new Keyv({ store: new KeyvRedis(config.redisUrl), namespace: 'oauth-demo' }) : undefined;
  // TypeOrmStorage already falls back to the database when the cache fails; this only keeps the reason visible.
  cache?.on('error', (error: unknown) => console.warn(`Redis cache: ${String(error)}`));
  const repository = dataSource.getRepository(OAuth);
  return {
    kind: 'database',
    storage: new TypeOrmStorage<SessionUser>(dataSource, OAuth, { user: currentUser, cache, cacheTtl: 5 * 60_000 }),
    description: `TypeOrmStorage on ${describeDatabase(dataSource)}${cache ? ', cached in Redis (REDIS_URL)' : ''}`,
    async storedAt(user) {
      // Only the timestamps: the token column is not even read.
      return repository.findOne({ select: { createdAt: true, updatedAt: true }, where: { provider: PROVIDER, userId: user.id } });
    },
    close: async () => {
      await cache?.disconnect();
    },
  };
}
