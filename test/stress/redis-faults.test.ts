import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import Keyv from 'keyv';
import KeyvRedis from '@keyv/redis';
import { TypeOrmStorage, type OAuthToken } from '../../src';
import { databases, type TestDatabase } from '../support/databases';
import { reportFigures } from '../support/figures';
import { OAuth, User } from '../support/models';
import { describeWith } from '../support/services';
import { OwnRedis } from './processes';

const CACHE_TIMEOUT = 100;
const PROVIDERS = ['github', 'google', 'gitlab'];

for (const kind of databases) {
  describeWith(kind.up)(`a Redis cache that stops or hangs, on ${kind.name}`, () => {
    let db: TestDatabase;
    let redis: OwnRedis;
    let keyv: Keyv;
    const figures = { calls: 0, callsDuringOutages: 0, outages: 0, slowestOutageCallMs: 0, warnings: 0, rowsChecked: 0 };

    beforeAll(async () => {
      db = await kind.create();
      redis = await OwnRedis.start();
      keyv = new Keyv({ store: new KeyvRedis(redis.url), namespace: 'oauth-stress' });
      await keyv.get('connected'); // the client connects on first use; the test starts from a working cache
    });
    afterAll(async () => {
      await redis?.stop();
      // Forced: a polite QUIT would wait for a server that may be gone.
      await (keyv?.store as KeyvRedis<string> | undefined)?.disconnect(true);
      await db?.destroy();
      reportFigures(`stress-redis-faults-${kind.name}`, figures);
    });

    it('keeps every call correct from the database while Redis is down or frozen, and caches again once it is back', async () => {
      const [alice] = await db.dataSource.getRepository(User).save([{ name: 'alice' }]);
      const storage = new TypeOrmStorage<User>(db.dataSource, OAuth, {
        user: alice,
        cache: keyv,
        cacheTtl: 60_000,
        cacheTimeout: CACHE_TIMEOUT,
      });
      const model = new Map<string, OAuthToken | null>();
      let version = 0;
      let outage = false;

      /** One call, its result checked against the model; resolves to the number of statements it ran. */
      async function step(provider: string, kind: 'get' | 'set' | 'delete'): Promise<number> {
        const token = { access_token: `secret-${provider}-${++version}` };
        const started = performance.now();
        const statements = await db.logger.count(async () => {
          if (kind === 'get') expect(await storage.get(provider)).toEqual(model.get(provider) ?? null);
          else if (kind === 'set') await storage.set(provider, token);
          else await storage.delete(provider);
        });
        if (kind !== 'get') model.set(provider, kind === 'set' ? token : null);
        figures.calls++;
        if (outage) {
          figures.callsDuringOutages++;
          figures.slowestOutageCallMs = Math.max(figures.slowestOutageCallMs, Math.round(performance.now() - started));
        }
        return statements;
      }

      /** A cached get runs no SQL: the cache answers. (Only tokens are cached; "no token" is read from the table.) */
      async function expectCached(): Promise<void> {
        for (const provider of PROVIDERS) {
          await step(provider, 'get');
          expect(await step(provider, 'get')).toBe(model.get(provider) ? 0 : 1);
        }
      }

      /** Until the client has reconnected, gets still go to the database; bounded, and never a timing assertion. */
      async function waitForCache(): Promise<void> {
        for (let attempt = 0; (await step(PROVIDERS[0], 'get')) > 0; attempt++) {
          if (attempt === 100) throw new Error('the cache did not come back');
          await sleep(100);
        }
      }

      /** Every kind of call while the cache cannot answer: each one from the database, each one right. */
      async function duringOutage(): Promise<void> {
        outage = true;
        figures.outages++;
        const warningsBefore = db.logger.messages.filter((m) => m.level === 'warn').length;
        for (const provider of PROVIDERS) {
          expect(await step(provider, 'get')).toBe(1);
          await step(provider, 'set');
          expect(await step(provider, 'get')).toBe(1);
        }
        await step(PROVIDERS[1], 'delete');
        expect(await step(PROVIDERS[1], 'get')).toBe(1);
        const warnings = db.logger.messages.filter((m) => m.level === 'warn').slice(warningsBefore);
        expect(warnings).toHaveLength(1); // reported once per outage
        expect(String(warnings[0].message)).toMatch(/cache .* failed/);
        expect(String(warnings[0].message)).not.toContain('secret-');
        figures.warnings += warnings.length;
        outage = false;
      }

      for (const provider of PROVIDERS) await step(provider, 'set');
      await expectCached();

      // Stopped: connections drop; the server comes back empty, as one without persistence does.
      await redis.stop();
      await duringOutage();
      await redis.restart();
      await waitForCache();
      await expectCached();

      // Frozen: connections stay open and nothing answers. What the client queued runs once it thaws,
      // invalidations included, so nothing cached before the freeze is served afterwards.
      redis.pause();
      await duringOutage();
      redis.resume();
      for (const provider of PROVIDERS) await step(provider, 'get');
      await waitForCache();
      await expectCached();

      const rows = await db.dataSource.getRepository(OAuth).find();
      expect(Object.fromEntries(rows.map((row) => [row.provider, row.token]))).toEqual(
        Object.fromEntries([...model].filter(([, token]) => token !== null)),
      );
      figures.rowsChecked += rows.length;
    }, 60_000);
  });
}
