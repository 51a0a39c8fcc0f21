import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { DataSource } from 'typeorm';
import {
  currentUser,
  InvalidProviderError,
  InvalidTokenError,
  InvalidUserError,
  OAuthStorageError,
  TypeOrmStorage,
  UserRequiredError,
  type CacheLike,
  type EncryptionOptions,
  type OAuthToken,
  type TypeOrmStorageOptions,
} from '../../src';
import { databases, type TestDatabase } from '../support/databases';
import { reportFigures } from '../support/figures';
import { allModels, BotToken, OAuth, User } from '../support/models';
import { describeWith } from '../support/services';

/** Must never appear in an error: a token value, and the bytes of the keys the corpus passes. */
const SECRET = 'secret-corpus';
const shortKey = randomBytes(16).toString('base64');
const almostKey = randomBytes(31).toString('base64');
const goodKey = randomBytes(32).toString('base64');
const SECRETS = [SECRET, shortKey, almostKey, goodKey];

interface Subject {
  storage: TypeOrmStorage<User>;
  dataSource: DataSource;
  alice: User;
  make(options: TypeOrmStorageOptions<User>): TypeOrmStorage<User>;
}

type ErrorClass = new (...args: never[]) => OAuthStorageError;

/** One bad input, what it must be refused with, and how to pass it. */
type Case = [what: string, error: ErrorClass, run: (s: Subject) => unknown];

const badToken = (what: string, token: unknown): Case => [
  `token: ${what}`,
  InvalidTokenError,
  (s) => s.storage.set('github', token as OAuthToken, { user: s.alice }),
];
const circular: Record<string, unknown> = { access_token: SECRET };
circular.self = circular;
const deepCircular = { access_token: SECRET, a: { b: {} as Record<string, unknown> } };
deepCircular.a.b.back = deepCircular.a;

const badProvider = (what: string, provider: unknown, call: 'get' | 'set' | 'delete'): Case => [
  `provider: ${what} (${call})`,
  InvalidProviderError,
  (s) =>
    call === 'set'
      ? s.storage.set(provider as string, { access_token: SECRET }, { user: s.alice })
      : s.storage[call](provider as string, { user: s.alice }),
];

const badScope = (what: string, scope: object): Case => [
  `scope: ${what}`,
  InvalidUserError,
  (s) => s.storage.set('github', { access_token: SECRET }, scope),
];

const badOption = (what: string, options: object): Case => [
  `option: ${what}`,
  OAuthStorageError,
  (s) => s.make(options as TypeOrmStorageOptions<User>),
];
const badKeys = (what: string, encryption: unknown) => badOption(`encryption ${what}`, { encryption: encryption as EncryptionOptions });
const badCache = (what: string, cache: unknown) => badOption(`cache ${what}`, { cache: cache as CacheLike });

const guest = { id: 0, anonymous: true } as unknown as User;

const CORPUS: Case[] = [
  badToken('null', null),
  badToken('undefined', undefined),
  badToken('a string', `{"access_token":"${SECRET}"}`),
  badToken('a number', 42),
  badToken('a boolean', true),
  badToken('an array', [{ access_token: SECRET }]),
  badToken('a Date', new Date()),
  badToken('a Map', new Map([['access_token', SECRET]])),
  badToken('a class instance', new (class Token { access_token = SECRET })()),
  badToken('an object with another prototype', Object.create({ inherited: SECRET })),
  badToken('a promise', Promise.resolve({ access_token: SECRET })),
  badToken('circular', circular),
  badToken('circular deep inside', deepCircular),
  badToken('a BigInt inside', { access_token: SECRET, n: 10n }),
  badToken('undefined inside', { access_token: SECRET, u: undefined }),
  badToken('NaN inside', { access_token: SECRET, n: NaN }),
  badToken('Infinity inside', { access_token: SECRET, n: Infinity }),
  badToken('-Infinity inside', { access_token: SECRET, n: -Infinity }),
  badToken('-0 inside', { access_token: SECRET, n: -0 }),
  badToken('a function inside', { access_token: SECRET, f: () => SECRET }),
  badToken('a symbol inside', { access_token: SECRET, s: Symbol(SECRET) }),
  badToken('a symbol key', { access_token: SECRET, [Symbol('k')]: 1 }),
  // eslint-disable-next-line no-sparse-arrays -- the hole is the bad input
  badToken('an array hole', { access_token: SECRET, list: [1, , 3] }),
  badToken('a Date inside', { access_token: SECRET, at: new Date() }),
  badToken('a RegExp inside', { access_token: SECRET, r: /secret/ }),
  badToken('a Buffer inside', { access_token: SECRET, b: Buffer.from(SECRET) }),
  badToken('undefined deep inside', { access_token: SECRET, nested: { deep: [{ bad: undefined }] } }),

  badProvider('empty', '', 'get'),
  badProvider('51 characters', 'x'.repeat(51), 'set'),
  badProvider('52 UTF-16 units of emoji', '🚀'.repeat(26), 'set'),
  badProvider('null', null, 'delete'),
  badProvider('undefined', undefined, 'get'),
  badProvider('a number', 42, 'set'),
  badProvider('an object', { name: 'github' }, 'get'),
  badProvider('an array', ['github'], 'delete'),
  badProvider('a String object', new String('github'), 'set'),
  badProvider('a symbol', Symbol('github'), 'get'),

  badScope('a user without an id', { user: {} }),
  badScope('a user with a null id', { user: { id: null } }),
  badScope('a user with a NaN id', { user: { id: NaN } }),
  badScope('a user with an Infinity id', { user: { id: Infinity } }),
  badScope('a user with an empty id', { user: { id: '' } }),
  badScope('a user with an object id', { user: { id: {} } }),
  badScope('a user with a boolean id', { user: { id: true } }),
  badScope('an empty userId', { userId: '' }),
  badScope('a NaN userId', { userId: NaN }),
  badScope('a -Infinity userId', { userId: -Infinity }),
  badScope('an object userId', { userId: {} }),
  badScope('an array userId', { userId: [1] }),
  badScope('a boolean userId', { userId: true }),
  ['configured user without an id', InvalidUserError, (s) => s.make({ user: () => ({ name: 'x' }) as User }).get('github')],
  ['configured async userId NaN', InvalidUserError, (s) => s.make({ userId: async () => NaN }).get('github')],

  ['no user, get', UserRequiredError, (s) => s.make({ user: () => null }).get('github')],
  ['no user, set', UserRequiredError, (s) => s.make({ user: () => null }).set('github', { access_token: SECRET })],
  ['no user, delete', UserRequiredError, (s) => s.make({ user: () => null }).delete('github')],
  ['no userId, get', UserRequiredError, (s) => s.make({ userId: () => undefined }).get('github')],
  ['null scope user falls through to none', UserRequiredError, (s) => s.make({ user: () => null }).delete('github', { user: null })],
  [
    'anonymous user, set',
    UserRequiredError,
    (s) => s.make({ user: guest, isAnonymous: (u) => (u as { anonymous?: boolean }).anonymous === true }).set('github', { access_token: SECRET }),
  ],
  ['currentUser outside a request', UserRequiredError, (s) => s.make({ user: currentUser<User> }).set('github', { access_token: SECRET })],

  badKeys('of 16 bytes', { keys: { a: shortKey }, current: 'a' }),
  badKeys('of 31 bytes', { keys: { a: almostKey }, current: 'a' }),
  badKeys('not base64', { keys: { a: `${SECRET}!` }, current: 'a' }),
  badKeys('as a number', { keys: { a: 42 }, current: 'a' }),
  badKeys('with current not among the keys', { keys: { a: goodKey }, current: 'b' }),
  badKeys('without current', { keys: { a: goodKey } }),
  badKeys('without keys', { keys: {}, current: 'a' }),
  badKeys('with keys null', { keys: null, current: 'a' }),
  badKeys('as a string', goodKey),
  badKeys('null', null),
  badOption('cacheTtl 0', { cache: new Map(), cacheTtl: 0 }),
  badOption('cacheTtl -1', { cache: new Map(), cacheTtl: -1 }),
  badOption('cacheTtl NaN', { cache: new Map(), cacheTtl: NaN }),
  badOption('cacheTtl Infinity', { cache: new Map(), cacheTtl: Infinity }),
  badOption('cacheTtl as a string', { cache: new Map(), cacheTtl: '60000' }),
  badOption('cacheTimeout 0', { cache: new Map(), cacheTimeout: 0 }),
  badOption('cacheTimeout -5', { cache: new Map(), cacheTimeout: -5 }),
  badOption('cacheTimeout NaN', { cache: new Map(), cacheTimeout: NaN }),
  badCache('without methods', {}),
  badCache('without set', { get: () => undefined }),
  badCache('without delete or del', { get: () => undefined, set: () => undefined }),
  badCache('with properties that are not functions', { get: 1, set: 2, delete: 3 }),
  ['users for a model without a user relation', OAuthStorageError, (s) => new TypeOrmStorage(s.dataSource, BotToken, { user: () => s.alice })],
  ['a scope user for a model without a user relation', OAuthStorageError, (s) => new TypeOrmStorage(s.dataSource, BotToken).get('slack', { user: s.alice })],
  ['rotate() without encryption', OAuthStorageError, (s) => s.storage.rotate()],
  ['rotate() with batchSize 0', OAuthStorageError, (s) => s.make({ encryption: { keys: { a: goodKey }, current: 'a' } }).rotate({ batchSize: 0 })],
  ['rotate() with batchSize 1.5', OAuthStorageError, (s) => s.make({ encryption: { keys: { a: goodKey }, current: 'a' } }).rotate({ batchSize: 1.5 })],
  [
    'an uninitialized DataSource',
    OAuthStorageError,
    (s) => new TypeOrmStorage(new DataSource({ ...s.dataSource.options, entities: allModels } as never), OAuth).get('github'),
  ],
];

for (const kind of databases) {
  describeWith(kind.up)(`bad input on ${kind.name}`, () => {
    let db: TestDatabase;
    let subject: Subject;
    let dumpRows = 0;

    beforeAll(async () => {
      db = await kind.create();
      const [alice, bob] = await db.dataSource.getRepository(User).save([{ name: 'alice' }, { name: 'bob' }]);
      const make = (options: TypeOrmStorageOptions<User>) => new TypeOrmStorage<User>(db.dataSource, OAuth, options);
      subject = { storage: make({ userRequired: false }), dataSource: db.dataSource, alice, make };
      // Rows of every kind the table can hold: a user's, the app-wide one, plaintext and encrypted.
      await subject.storage.set('github', { access_token: 'alice-token' }, { user: alice });
      await subject.storage.set('github', { access_token: 'app-token' });
      await make({ encryption: { keys: { a: goodKey }, current: 'a' } }).set('google', { access_token: 'bob-token' }, { user: bob });
    });
    afterAll(async () => {
      await db?.destroy();
      reportFigures(`stress-bad-input-${kind.name}`, {
        cases: CORPUS.length,
        byError: Object.fromEntries(
          [...new Set(CORPUS.map(([, error]) => error.name))].map((name) => [name, CORPUS.filter(([, e]) => e.name === name).length]),
        ),
        rowsCompared: dumpRows,
      });
    });

    /** Every row of every table, as the database holds it. */
    async function dump(): Promise<string> {
      const tables = await Promise.all(
        db.dataSource.entityMetadatas.map(async (entity) => {
          const rows = await db.dataSource.query(`SELECT * FROM ${db.dataSource.driver.escape(entity.tableName)} ORDER BY 1`);
          dumpRows += rows.length;
          return [entity.tableName, rows];
        }),
      );
      return JSON.stringify(tables);
    }

    it(`has at least 50 cases`, () => {
      expect(CORPUS.length).toBeGreaterThanOrEqual(50);
      expect(new Set(CORPUS.map(([what]) => what)).size).toBe(CORPUS.length);
    });

    it.each(CORPUS)('%s: refused with its typed error, before any SQL, changing nothing', async (_what, error, run) => {
      const before = await dump();
      db.logger.reset();
      const thrown = await Promise.resolve()
        .then(() => run(subject))
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      expect(thrown).toBeInstanceOf(error);
      expect(thrown).toBeInstanceOf(OAuthStorageError);
      const shown = `${(thrown as Error).message}\n${inspect(thrown, { depth: 10 })}`;
      expect((thrown as Error).message).toMatch(/\w/);
      for (const secret of SECRETS) expect(shown).not.toContain(secret);
      expect(db.logger.queries).toEqual([]);
      expect(await dump()).toBe(before);
    });
  });
}
