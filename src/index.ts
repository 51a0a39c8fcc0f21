import 'reflect-metadata';

export { OAuthConsumerEntity } from './entities/oauth-consumer.entity';
export {
  TypeOrmStorage,
  type TypeOrmStorageOptions,
  type TypeOrmScope,
  type RefreshFunction,
  type ExpiringToken,
} from './storage/typeorm-storage';
export { BaseStorage } from './storage/base-storage';
export { SessionStorage, type SessionStorageOptions, type SessionLike } from './storage/session-storage';
export { MemoryStorage } from './storage/memory-storage';
export { NullStorage } from './storage/null-storage';
export type { CacheLike } from './cache/cache-like';
export {
  OAuthStorageError,
  UserRequiredError,
  InvalidTokenError,
  InvalidProviderError,
  InvalidUserError,
  TokenDecryptionError,
  TokenRefreshError,
} from './errors';
export type { EncryptionOptions } from './encryption/token-cipher';
export type { OAuthToken, Resolvable, StorageScope, TokenStorage, UserId } from './types';
export {
  requestContext,
  runWithRequest,
  currentRequest,
  currentUser,
  currentSession,
  type RequestContextOptions,
} from './context/request-context';
