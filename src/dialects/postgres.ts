import type { Dialect } from './dialect';

export const postgresDialect: Dialect = {
  placeholder: (n) => `$${n}`,
  tokenValue: (placeholder) => `${placeholder}::jsonb`,
  // Text, not jsonb: the token is parsed once here, and the same text goes to the cache.
  tokenText: (column) => `${column}::text`,
  now: 'CURRENT_TIMESTAMP',
};
