/**
 * One worker process of the load test: `callers` concurrent callers mixing
 * get/set/delete on the shared keys through a TypeOrmStorage on PostgreSQL with
 * a Keyv cache on Redis, recording every call with its start and end time
 * (see history.ts). Driven by the parent over IPC:
 * in { run: 'mixed' | 'final' }, { stop }; out { ready }, { done: phase }, { records }, { failed }.
 */
import 'reflect-metadata';
import { isDeepStrictEqual } from 'node:util';
import Keyv from 'keyv';
import KeyvRedis from '@keyv/redis';
import { DataSource, type Logger } from 'typeorm';
import { TypeOrmStorage, type OAuthToken } from '../../src';
import { allModels, OAuth } from '../support/models';

export interface LoadConfig {
  worker: number;
  workers: number;
  callers: number;
  /** Calls each caller makes in the mixed phase. */
  callsPerCaller: number;
  /** Reads each caller makes while the final writes run. */
  finalReads: number;
  keys: Array<{ provider: string; userId: number | null }>;
  databaseUrl: string;
  schema: string;
  applicationName: string;
  redisUrl: string;
  namespace: string;
  encryptionKey: string;
}

/** One call: key index, what it did, the token id written or read, its interval, and its error if it failed. */
export interface CallRecord {
  key: number;
  kind: 'get' | 'set' | 'delete';
  value: string | null;
  start: string;
  ack: string;
  error?: string;
}

/** The token a write with id `value` stores; a read must return exactly this for the id it sees. */
export function tokenFor(value: string): OAuthToken {
  return { access_token: `secret-${value}`, refresh_token: `refresh-${value}`, token_type: 'bearer', scope: ['repo'] };
}

/** The id of a token read back, or 'corrupt' when it is not exactly a token some write stored. */
export function valueOf(token: OAuthToken | null): string | null {
  if (token === null) return null;
  const value = String(token.access_token).replace(/^secret-/, '');
  return isDeepStrictEqual(token, tokenFor(value)) ? value : 'corrupt';
}

/** Counts warnings (a cache call that failed or timed out is reported as one). */
class WarningCounter implements Logger {
  warnings = 0;
  logQuery(): void {}
  logQueryError(): void {}
  logQuerySlow(): void {}
  logSchemaBuild(): void {}
  logMigration(): void {}
  log(level: string): void {
    if (level === 'warn') this.warnings++;
  }
}

async function main(config: LoadConfig): Promise<void> {
  const logger = new WarningCounter();
  const dataSource = await new DataSource({
    type: 'postgres',
    url: config.databaseUrl,
    schema: config.schema,
    applicationName: config.applicationName,
    entities: allModels,
    logger,
    extra: { max: 6 },
  }).initialize();
  const keyv = new Keyv({ store: new KeyvRedis(config.redisUrl), namespace: config.namespace });
  const storage = new TypeOrmStorage(dataSource, OAuth, {
    userRequired: false,
    cache: keyv,
    cacheTtl: 60_000,
    // The load test checks coherence, not outages: a cache call must not give up merely because two cores are busy.
    cacheTimeout: 10_000,
    encryption: { keys: { k1: config.encryptionKey }, current: 'k1' },
  });
  const records: CallRecord[] = [];
  let written = 0;

  async function call(key: number, kind: CallRecord['kind']): Promise<void> {
    const { provider, userId } = config.keys[key];
    const scope = userId === null ? undefined : { userId };
    const value = kind === 'set' ? `${config.worker}.${written++}` : null;
    const start = process.hrtime.bigint();
    try {
      let result: string | null = value;
      if (kind === 'get') result = valueOf(await storage.get(provider, scope));
      else if (kind === 'set') await storage.set(provider, tokenFor(value!), scope);
      else await storage.delete(provider, scope);
      records.push({ key, kind, value: result, start: String(start), ack: String(process.hrtime.bigint()) });
    } catch (error) {
      const ack = String(process.hrtime.bigint());
      records.push({ key, kind, value, start: String(start), ack, error: `${(error as Error).name}: ${(error as Error).message}` });
    }
  }

  const randomKey = () => Math.floor(Math.random() * config.keys.length);
  const callers = Array.from({ length: config.callers }, (_, i) => i);

  /** Every caller: random keys, about half reads, a third sets, the rest deletes. */
  const mixed = () =>
    Promise.all(
      callers.map(async () => {
        for (let n = 0; n < config.callsPerCaller; n++) {
          const dice = Math.random();
          await call(randomKey(), dice < 0.5 ? 'get' : dice < 0.85 ? 'set' : 'delete');
        }
      }),
    );

  /**
   * After every worker finished the mixed phase: each key gets one last write,
   * from one caller of one worker, while the other callers keep reading. No
   * other write overlaps it, so it is the key's last acknowledged write.
   */
  const final = () =>
    Promise.all(
      callers.map(async (caller) => {
        const mine = config.keys
          .map((_, key) => key)
          .filter((key) => key % config.workers === config.worker && Math.floor(key / config.workers) % config.callers === caller);
        for (const key of mine) await call(key, key % 3 === 0 ? 'delete' : 'set');
        for (let n = 0; n < config.finalReads; n++) await call(randomKey(), 'get');
      }),
    );

  process.on('message', async (message: { run?: 'mixed' | 'final'; stop?: boolean }) => {
    if (message.run) {
      await (message.run === 'mixed' ? mixed() : final());
      process.send!({ done: message.run });
    } else if (message.stop) {
      process.send!({ records, warnings: logger.warnings }, async () => {
        await keyv.disconnect();
        await dataSource.destroy();
        process.exit(0);
      });
    }
  });
  process.send!({ ready: true });
}

if (require.main === module) {
  // Never outlive the test that started this process.
  process.on('disconnect', () => process.exit(1));
  main(JSON.parse(process.env.STRESS_CONFIG!) as LoadConfig).catch((error) => {
    process.send!({ failed: String(error?.stack ?? error) });
    process.exit(1);
  });
}
