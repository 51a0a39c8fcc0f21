import type { Logger } from 'typeorm';

/**
 * A DataSource logger that counts the statements TypeORM reports and keeps
 * nothing else: the benchmark runs millions of queries through it, so unlike
 * the tests' recording logger it must not hold on to them.
 */
export class CountingLogger implements Logger {
  #statements = 0;

  logQuery(): void {
    this.#statements++;
  }
  logQueryError(): void {}
  logQuerySlow(): void {}
  logSchemaBuild(): void {}
  logMigration(): void {}
  log(level: 'log' | 'info' | 'warn', message: unknown): void {
    if (level === 'warn') console.error(`typeorm warning: ${String(message)}`);
  }

  /** Statements run while `action` ran. */
  async count(action: () => Promise<unknown>): Promise<number> {
    const before = this.#statements;
    await action();
    return this.#statements - before;
  }
}
