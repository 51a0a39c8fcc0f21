import { readFileSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';

/** What the numbers were measured on; nothing that names the host or its paths. */
export interface Machine {
  readonly cpus: number;
  readonly cpuModel: string;
  readonly node: string;
  readonly postgres: string;
  readonly sqlite: string;
  readonly packages: Readonly<Record<'typeorm' | 'pg' | 'better-sqlite3' | 'tinybench', string>>;
}

export function describeMachine(postgresVersion: string): Machine {
  const db = new Database(':memory:');
  const { version: sqlite } = db.prepare<[], { version: string }>('SELECT sqlite_version() AS version').get()!;
  db.close();
  // Read from the file: not every package exports its package.json.
  const version = (name: string): string =>
    JSON.parse(readFileSync(join(__dirname, '..', 'node_modules', name, 'package.json'), 'utf8')).version;
  return {
    cpus: availableParallelism(),
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
    node: process.version,
    postgres: postgresVersion,
    sqlite,
    packages: {
      typeorm: version('typeorm'),
      pg: version('pg'),
      'better-sqlite3': version('better-sqlite3'),
      tinybench: version('tinybench'),
    },
  };
}

export function machineLine(machine: Machine): string {
  const { packages } = machine;
  return (
    `${machine.cpus} CPUs (${machine.cpuModel}), Node ${machine.node}, PostgreSQL ${machine.postgres}, ` +
    `SQLite ${machine.sqlite}; typeorm ${packages.typeorm}, pg ${packages.pg}, better-sqlite3 ${packages['better-sqlite3']}, ` +
    `tinybench ${packages.tinybench}`
  );
}
