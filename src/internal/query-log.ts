import { QueryFailedError, type DataSource } from 'typeorm';
import type { Statement } from './statement';

/** What loggers and errors see instead of a token: the token is a password to the user's account. */
const MASKED_TOKEN = '[token]';

/** Parameters as logs and errors may show them. */
function maskedParams(statement: Statement, params: readonly unknown[]): unknown[] {
  if (statement.tokenParams.length === 0) return params as unknown[];
  const copy = params.slice();
  for (const position of statement.tokenParams) copy[position] = MASKED_TOKEN;
  return copy;
}

/**
 * Runs a statement the way TypeORM's own query runners do for their queries:
 * reported to the DataSource's logger first, slow runs reported when the
 * DataSource sets `maxQueryExecutionTime`, failures logged and thrown as
 * TypeORM's `QueryFailedError`. Token parameters are masked in all of it.
 */
export async function runLogged<T>(
  dataSource: DataSource,
  statement: Statement,
  params: readonly unknown[],
  run: () => T | Promise<T>,
): Promise<T> {
  const logger = dataSource.logger;
  logger.logQuery(statement.text, maskedParams(statement, params));
  const slowAfter = dataSource.options.maxQueryExecutionTime;
  const started = slowAfter ? performance.now() : 0;
  try {
    const result = await run();
    if (slowAfter) {
      const took = performance.now() - started;
      if (took > slowAfter) logger.logQuerySlow(took, statement.text, maskedParams(statement, params));
    }
    return result;
  } catch (error) {
    if (statement.tokenParams.length > 0) redactDriverDetails(error);
    const masked = maskedParams(statement, params);
    logger.logQueryError(error as Error, statement.text, masked);
    throw new QueryFailedError(statement.text, masked, error as Error);
  }
}

/**
 * PostgreSQL's `detail` and `where` can quote the parameter a statement
 * failed on, which for a write is the token; TypeORM copies them onto its
 * QueryFailedError, where logs would show them.
 */
function redactDriverDetails(error: unknown): void {
  if (typeof error !== 'object' || error === null) return;
  for (const field of ['detail', 'where', 'internalQuery'] as const) {
    if (typeof (error as Record<string, unknown>)[field] === 'string') (error as Record<string, unknown>)[field] = MASKED_TOKEN;
  }
}
