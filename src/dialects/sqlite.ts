import type { Dialect } from './dialect';

export const sqliteDialect: Dialect = {
  placeholder: () => '?',
  // TypeORM stores `jsonb` columns as SQLite's binary JSONB; json() reads both
  // that and plain JSON text, so rows written by either way are readable.
  tokenValue: (placeholder) => `jsonb(${placeholder})`,
  tokenText: (column) => `json(${column})`,
  // The format TypeORM's own date columns use on SQLite.
  now: "datetime('now')",
};
