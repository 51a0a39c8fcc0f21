/** Where the test services live; CI and a fresh clone use these defaults. */
export const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** Set by test/support/global-setup.ts after it has tried to reach each service. */
export const postgresUp = process.env.TEST_POSTGRES_UP === '1';
export const redisUp = process.env.TEST_REDIS_UP === '1';

/**
 * `describe` for a suite that needs a service: in CI a missing service fails
 * global setup before any suite runs; elsewhere its suites are skipped, and
 * global setup has printed how to start the service.
 */
export function describeWith(up: boolean): typeof describe {
  // eslint-disable-next-line jest/no-disabled-tests -- only when the service is down outside CI
  return up ? describe : describe.skip;
}
