import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Prints what a suite measured (operations, errors, faults, rows checked) and
 * keeps it in test/artifacts/figures/<suite>.json (git-ignored), where the
 * README's reliability figures come from.
 */
export function reportFigures(suite: string, figures: Record<string, unknown>): void {
  const dir = join(__dirname, '..', 'artifacts', 'figures');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${suite}.json`), `${JSON.stringify({ suite, date: new Date().toISOString(), ...figures }, null, 2)}\n`);
  console.log(`${suite} figures: ${JSON.stringify(figures)}`);
}
