import type { DataSource, EntitySubscriberInterface, QueryRunner } from 'typeorm';

const pending = new WeakMap<QueryRunner, Array<() => Promise<void>>>();

/**
 * Runs `task` once the transaction open on `queryRunner` has committed (and
 * never, if it rolls back). Cache invalidation needs this: invalidating when a
 * write inside a transaction runs would let another request cache the row
 * as it was before the commit. TypeORM has no per-transaction hook, so one
 * subscriber per DataSource watches commits and runs what is pending.
 */
export function afterCommit(dataSource: DataSource, queryRunner: QueryRunner, task: () => Promise<void>): void {
  // Checked every time: initializing a DataSource again rebuilds its subscriber list.
  if (!dataSource.subscribers.includes(commitWatcher)) dataSource.subscribers.push(commitWatcher);
  const tasks = pending.get(queryRunner);
  if (tasks) tasks.push(task);
  else pending.set(queryRunner, [task]);
}

const commitWatcher: EntitySubscriberInterface = {
  async afterTransactionCommit({ queryRunner }) {
    // Committing a savepoint also reports a commit; wait for the outermost one.
    if (queryRunner.isTransactionActive) return;
    const tasks = pending.get(queryRunner);
    pending.delete(queryRunner);
    if (tasks) await Promise.all(tasks.map((task) => task()));
  },
  async afterTransactionRollback({ queryRunner }) {
    if (!queryRunner.isTransactionActive) pending.delete(queryRunner);
  },
};
