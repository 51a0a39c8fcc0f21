/**
 * An error's name and message, for logs and error pages. Safe to show: this
 * package's errors never carry token values, and neither do openid-client's.
 */
export function explain(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
