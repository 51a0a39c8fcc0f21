import { join, resolve } from 'node:path';

/** Where tokens are kept: the database through TypeOrmStorage, or the login session through SessionStorage. */
export type TokenStorageKind = 'database' | 'session';

/** Everything the demo reads from its environment, checked once at start. */
export interface DemoConfig {
  /** The app's port; 0 picks a free one. */
  readonly port: number;
  /** The identity provider's port; 0 picks a free one. */
  readonly providerPort: number;
  /** Holds the SQLite database (`app.sqlite`) and the provider's own state (`provider.sqlite`). */
  readonly dataDir: string;
  /** PostgreSQL instead of SQLite for the app's tables. */
  readonly databaseUrl?: string;
  /** Puts a Keyv/Redis cache in front of the token table. */
  readonly redisUrl?: string;
  readonly tokenStorage: TokenStorageKind;
  /** Lifetime of the access tokens the provider issues, in seconds. */
  readonly accessTokenTtl: number;
  /**
   * `getValid` renews a token that expires within this many seconds, and the
   * background job looks for tokens that do: the last third of an access
   * token's life, at most the last minute (the storage's default).
   */
  readonly refreshLeewaySeconds: number;
  /** Seconds between two runs of the background refresh job; 0 turns it off. */
  readonly refreshJobInterval: number;
}

/** Thrown at start for an environment variable the demo cannot use; the message says which and why. */
export class ConfigError extends Error {}

const DEFAULT_DATA_DIR = join(__dirname, '..', '..', 'data');

/**
 * Reads `PORT` (default 3000), `PROVIDER_PORT` (default PORT + 1), `DATA_DIR`
 * (default `data/`), `DATABASE_URL`, `REDIS_URL`, `TOKEN_STORAGE` (`database`
 * or `session`), `ACCESS_TOKEN_TTL` (seconds, default 60) and
 * `REFRESH_JOB_INTERVAL` (seconds, default 15, 0 for no job).
 */
export function readConfig(env: NodeJS.ProcessEnv = process.env): DemoConfig {
  const port = integer(env, 'PORT', 3000, 0, 65535);
  const tokenStorage = env.TOKEN_STORAGE || 'database';
  if (tokenStorage !== 'database' && tokenStorage !== 'session') {
    throw new ConfigError(`TOKEN_STORAGE must be "database" or "session", not "${tokenStorage}"`);
  }
  const accessTokenTtl = integer(env, 'ACCESS_TOKEN_TTL', 60, 1, 366 * 24 * 3600);
  return {
    port,
    providerPort: integer(env, 'PROVIDER_PORT', port === 0 ? 0 : port + 1, 0, 65535),
    dataDir: resolve(env.DATA_DIR || DEFAULT_DATA_DIR),
    databaseUrl: env.DATABASE_URL || undefined,
    redisUrl: env.REDIS_URL || undefined,
    tokenStorage,
    accessTokenTtl,
    // The demo knows the provider's token lifetime because it runs the provider; an app would pick a fixed leeway.
    refreshLeewaySeconds: Math.min(60, Math.floor(accessTokenTtl / 3)),
    refreshJobInterval: integer(env, 'REFRESH_JOB_INTERVAL', 15, 0, 24 * 3600),
  };
}

function integer(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const text = env[name];
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name} must be a whole number from ${min} to ${max}, not "${text}"`);
  }
  return value;
}
