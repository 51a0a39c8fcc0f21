/**
 * A second process for the refresh test: on { go: n }, calls getValid n times
 * at once through its own DataSource and reports { tokens }.
 */
import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { TypeOrmStorage } from '../../src';
import { allModels, OAuth } from './models';
import { refreshAt } from './refresh-provider';

async function main() {
  const env = process.env;
  const dataSource = await new DataSource({ type: 'postgres', url: env.DATABASE_URL, schema: env.SCHEMA, entities: allModels }).initialize();
  const storage = new TypeOrmStorage(dataSource, OAuth, { userId: Number(env.USER_ID) });
  const refresh = refreshAt(env.PROVIDER_URL!);
  process.on('message', async (message: { go?: number; stop?: boolean }) => {
    if (message.go) {
      try {
        const tokens = await Promise.all(Array.from({ length: message.go }, () => storage.getValid('github', refresh)));
        process.send!({ tokens });
      } catch (error) {
        process.send!({ error: String(error) });
      }
    } else if (message.stop) {
      await dataSource.destroy();
      process.exit(0);
    }
  });
  process.send!({ ready: true });
}

main().catch((error) => {
  process.send!({ error: String(error) });
  process.exit(1);
});
