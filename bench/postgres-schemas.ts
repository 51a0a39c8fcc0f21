import type { Client } from 'pg';
import { progress } from './progress';

/*
 * The benchmark's PostgreSQL schemas are named oauth_bench_<hex>. A run holds
 * an advisory lock on its schema's name for as long as its admin connection
 * lives, which is as long as the run: PostgreSQL releases the lock when the
 * process dies, however it dies. So a schema whose lock can be taken belongs
 * to no run any more.
 */

/** First key of the benchmark's advisory locks, so they cannot meet other code's. */
export const LOCK_CLASS = 0x0a0b_be4c;

/** Takes the lock on `schema`'s name, then creates it: no other run can see it unheld. */
export async function createHeldSchema(admin: Client, schema: string): Promise<void> {
  await admin.query(`SELECT pg_advisory_lock(${LOCK_CLASS}, hashtext($1))`, [schema]);
  await admin.query(`CREATE SCHEMA "${schema}"`);
}

/** Drops the schemas of runs that were killed before they could clean up (kill -9, a CI timeout). */
export async function dropAbandonedSchemas(admin: Client): Promise<void> {
  const { rows } = await admin.query<{ name: string }>(
    "SELECT nspname AS name FROM pg_namespace WHERE nspname LIKE 'oauth\\_bench\\_%'",
  );
  for (const { name } of rows) {
    const { rows: [{ free }] } = await admin.query(`SELECT pg_try_advisory_lock(${LOCK_CLASS}, hashtext($1)) AS free`, [name]);
    if (!free) continue;
    await admin.query(`DROP SCHEMA IF EXISTS "${name}" CASCADE`);
    await admin.query(`SELECT pg_advisory_unlock(${LOCK_CLASS}, hashtext($1))`, [name]);
    progress(`PostgreSQL schema ${name} dropped: a killed run left it`);
  }
}
