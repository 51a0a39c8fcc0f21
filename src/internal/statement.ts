import { createHash } from 'node:crypto';

/** A SQL statement built once per model, with what is needed to run and log it. */
export interface Statement {
  readonly text: string;
  /** Name for server-side prepared statements (PostgreSQL), derived from the text. */
  readonly name: string;
  /** Position of the token JSON in the parameters, masked in logs; -1 when none. */
  readonly tokenParam: number;
}

export function statement(text: string, tokenParam = -1): Statement {
  const name = `oauth_storage_${createHash('sha256').update(text).digest('hex').slice(0, 16)}`;
  return { text, name, tokenParam };
}
