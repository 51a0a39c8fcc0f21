import { CreateOAuthSchema1796400000000 } from '../migrations/1796400000000-CreateOAuthSchema';
import { AddTokenExpiry1796500000000 } from '../migrations/1796500000000-AddTokenExpiry';
import { OAuth, User } from './support/models';
import { databases } from './support/databases';
import { describeWith } from './support/services';

const migrations = [CreateOAuthSchema1796400000000, AddTokenExpiry1796500000000];

for (const kind of databases) {
  describeWith(kind.up)(`migrations on ${kind.name}`, () => {
    it('create exactly the schema of the entities, and undo cleanly', async () => {
      const db = await kind.create({ synchronize: false, options: { entities: [User, OAuth], migrations } });
      try {
        const ran = await db.dataSource.runMigrations({ transaction: 'each' });
        expect(ran.map((m) => m.name)).toEqual(['CreateOAuthSchema1796400000000', 'AddTokenExpiry1796500000000']);

        const pending = await db.dataSource.driver.createSchemaBuilder().log();
        expect(pending.upQueries.map((q) => q.query)).toEqual([]);

        // The database itself refuses a second app-wide row for a provider.
        const repo = db.dataSource.getRepository(OAuth);
        await repo.insert({ provider: 'github', token: { a: 1 } });
        await expect(repo.insert({ provider: 'github', token: { a: 2 } })).rejects.toThrow();

        await db.dataSource.undoLastMigration({ transaction: 'each' });
        await db.dataSource.undoLastMigration({ transaction: 'each' });
        const tables = await db.dataSource.createQueryRunner().getTables(['o_auth', 'user']);
        expect(tables).toEqual([]);
      } finally {
        await db.destroy();
      }
    });
  });
}
