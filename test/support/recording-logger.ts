import type { Logger } from 'typeorm';

/** A DataSource logger that keeps what it is told, so tests can count statements and read warnings. */
export class RecordingLogger implements Logger {
  readonly queries: Array<{ query: string; parameters?: unknown[] }> = [];
  readonly messages: Array<{ level: string; message: unknown }> = [];

  logQuery(query: string, parameters?: unknown[]): void {
    this.queries.push({ query, parameters });
  }
  logQueryError(): void {}
  logQuerySlow(): void {}
  logSchemaBuild(): void {}
  logMigration(): void {}
  log(level: 'log' | 'info' | 'warn', message: unknown): void {
    this.messages.push({ level, message });
  }

  /** Statements logged while `action` ran. */
  async count(action: () => Promise<unknown>): Promise<number> {
    const before = this.queries.length;
    await action();
    return this.queries.length - before;
  }

  reset(): void {
    this.queries.length = 0;
    this.messages.length = 0;
  }
}
