import type { DatabaseKind, TestDatabase } from './databases';
import { User } from './models';

/** What {@link useDatabase} hands each test: the database, and two users in it. */
export interface DatabaseState {
  db: TestDatabase;
  alice: User;
  bob: User;
}

/**
 * Hooks for a suite on one database: created once, emptied before each test
 * with users alice and bob saved (and the statement log reset), destroyed at
 * the end. `assign` receives the state before each test.
 */
export function useDatabase(kind: DatabaseKind, assign: (state: DatabaseState) => void): void {
  let db: TestDatabase | undefined;
  beforeAll(async () => {
    db = await kind.create();
  });
  afterAll(async () => {
    await db?.destroy();
  });
  beforeEach(async () => {
    await db!.clear();
    const [alice, bob] = await db!.dataSource.getRepository(User).save([{ name: 'alice' }, { name: 'bob' }]);
    db!.logger.reset();
    assign({ db: db!, alice, bob });
  });
}
