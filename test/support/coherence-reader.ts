/**
 * A second process for the cache coherence test: reads one user's token
 * through a TypeOrmStorage whose cache writes the parent can hold.
 * Messages in: { get: true, hold: boolean }, { release: true }, { stop: true }.
 * Messages out: { ready }, { held }, { token }, { error }.
 */
import 'reflect-metadata';
import Keyv from 'keyv';
import KeyvRedis from '@keyv/redis';
import { DataSource } from 'typeorm';
import { TypeOrmStorage } from '../../src';
import { GatedCache } from './gated-cache';
import { allModels, OAuth } from './models';

const send = (message: object) => process.send!(message);

async function main() {
  const env = process.env;
  const dataSource = await new DataSource({
    type: 'postgres',
    url: env.DATABASE_URL,
    schema: env.SCHEMA,
    entities: allModels,
  }).initialize();
  const keyv = new Keyv({ store: new KeyvRedis(env.REDIS_URL), namespace: env.NAMESPACE });
  const cache = new GatedCache(keyv, () => send({ held: true }));
  const storage = new TypeOrmStorage(dataSource, OAuth, { userId: Number(env.USER_ID), cache });

  process.on('message', async (message: { get?: boolean; hold?: boolean; release?: boolean; stop?: boolean }) => {
    try {
      if (message.get) {
        if (message.hold) cache.close();
        send({ token: await storage.get('github') });
      } else if (message.release) {
        cache.open();
      } else if (message.stop) {
        await keyv.disconnect();
        await dataSource.destroy();
        process.exit(0);
      }
    } catch (error) {
      send({ error: String(error) });
    }
  });
  send({ ready: true });
}

main().catch((error) => {
  send({ error: String(error) });
  process.exit(1);
});
