/** A progress line on stderr, so stdout carries only the report. */
export function progress(message: string): void {
  console.error(`[bench] ${message}`);
}
