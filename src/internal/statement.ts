import { createHash } from 'node:crypto';

/** A SQL statement built once per model, with what is needed to run and log it. */
export interface Statement {
  readonly text: string;
  /** Name for server-side prepared statements (PostgreSQL), derived from the text. */
  readonly name: string;
  /** Positions of parameters that carry a token, masked in logs and errors. */
  readonly tokenParams: readonly number[];
}

export function statement(text: string, tokenParams: readonly number[] = []): Statement {
  const name = `oauth_storage_${createHash('sha256').update(text).digest('hex').slice(0, 16)}`;
  return { text, name, tokenParams };
}
