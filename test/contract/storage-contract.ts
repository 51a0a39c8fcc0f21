import { InvalidProviderError, InvalidTokenError, type StorageScope, type TokenStorage } from '../../src';

/** What a storage under test needs to be driven by the contract. */
export interface ContractSubject {
  storage: TokenStorage<any>;
  /** Two scopes naming different users, for storages that keep tokens per user. */
  users?: [StorageScope<any>, StorageScope<any>];
  /** Called after each test. */
  dispose?: () => Promise<void> | void;
}

const token = (n: number) => ({ access_token: `access-${n}`, token_type: 'bearer', expires_at: 2_000_000_000, scope: ['read', 'write'] });

/**
 * The behaviour every storage shares, run by each storage's test file, as
 * Keyv's test suite is run by each of its adapters.
 */
export function describeStorageContract(
  name: string,
  makeStorage: () => Promise<ContractSubject> | ContractSubject,
  { perUser = false }: { perUser?: boolean } = {},
): void {
  describe(`${name}: storage contract`, () => {
    let subject: ContractSubject;
    let storage: TokenStorage<any>;

    beforeEach(async () => {
      subject = await makeStorage();
      storage = subject.storage;
    });
    afterEach(async () => {
      await subject.dispose?.();
    });

    it('returns null for a provider with no token', async () => {
      expect(await storage.get('github')).toBeNull();
    });

    it('returns what was set, as an equal object', async () => {
      await storage.set('github', token(1));
      expect(await storage.get('github')).toEqual(token(1));
    });

    it('adds expires_at (seconds since the epoch) to a token that only has expires_in', async () => {
      const before = Math.floor(Date.now() / 1000);
      await storage.set('github', { access_token: 'a', expires_in: 3600 });
      const stored = (await storage.get('github'))!;
      expect(stored.expires_in).toBe(3600);
      expect(stored.expires_at).toBeGreaterThanOrEqual(before + 3600);
      expect(stored.expires_at).toBeLessThanOrEqual(Math.floor(Date.now() / 1000) + 3600);
      await storage.set('github', { access_token: 'b', expires_in: 3600, expires_at: 42 });
      expect((await storage.get('github'))!.expires_at).toBe(42);
    });

    it('keeps nested JSON, unicode and large tokens exactly', async () => {
      const rich = { access_token: 'a'.repeat(20_000), nested: { list: [1, 2.5, true, null, 'ü 🚀'], empty: {} }, zero: 0 };
      await storage.set('github', rich);
      expect(await storage.get('github')).toEqual(rich);
    });

    it('replaces the token on a second set', async () => {
      await storage.set('github', token(1));
      await storage.set('github', token(2));
      expect(await storage.get('github')).toEqual(token(2));
    });

    it('deletes, and deleting a missing token is fine', async () => {
      await storage.set('github', token(1));
      await storage.delete('github');
      expect(await storage.get('github')).toBeNull();
      await expect(storage.delete('github')).resolves.toBeUndefined();
    });

    it('keeps providers apart', async () => {
      await storage.set('github', token(1));
      await storage.set('google', token(2));
      await storage.delete('github');
      expect(await storage.get('github')).toBeNull();
      expect(await storage.get('google')).toEqual(token(2));
    });

    it('treats SQL-looking and unicode provider names as ordinary names', async () => {
      const names = ["gh'; DROP TABLE x;--", 'prov"ider', 'пров', '%', '_', 'x'.repeat(50)];
      for (const [i, provider] of names.entries()) await storage.set(provider, token(i));
      for (const [i, provider] of names.entries()) expect(await storage.get(provider)).toEqual(token(i));
      expect(await storage.get('github')).toBeNull();
    });

    it('hands out copies: mutating a token set or got changes nothing stored', async () => {
      const original = token(1);
      await storage.set('github', original);
      original.access_token = 'mutated';
      const got = (await storage.get('github'))!;
      got.access_token = 'mutated too';
      expect(await storage.get('github')).toEqual(token(1));
    });

    it('rejects bad providers with InvalidProviderError and changes nothing', async () => {
      await storage.set('github', token(1));
      for (const provider of ['', 'x'.repeat(51), null, undefined, 42, {}, ['github']]) {
        await expect(storage.get(provider as any)).rejects.toBeInstanceOf(InvalidProviderError);
        await expect(storage.set(provider as any, token(2))).rejects.toBeInstanceOf(InvalidProviderError);
        await expect(storage.delete(provider as any)).rejects.toBeInstanceOf(InvalidProviderError);
      }
      expect(await storage.get('github')).toEqual(token(1));
    });

    it('rejects tokens JSON cannot hold exactly with InvalidTokenError and changes nothing', async () => {
      await storage.set('github', token(1));
      const circular: Record<string, unknown> = { a: 1 };
      circular.self = circular;
      const bad = [null, undefined, 'token', 42, [token(1)], circular, { n: 10n }, { d: new Date() }, { u: undefined },
        { f: () => 1 }, { n: NaN }, { n: Infinity }, new Map(), { [Symbol('s')]: 1 }];
      for (const value of bad) {
        await expect(storage.set('github', value as any)).rejects.toBeInstanceOf(InvalidTokenError);
      }
      expect(await storage.get('github')).toEqual(token(1));
    });

    it('never puts token values into error messages', async () => {
      const error = await storage.set('github', { access_token: 'secret-value-123', bad: undefined }).catch((e) => e);
      expect(error).toBeInstanceOf(InvalidTokenError);
      expect(String(error.message)).not.toContain('secret-value-123');
    });

    it('leaves one of the tokens after concurrent sets of one key', async () => {
      await Promise.all(Array.from({ length: 25 }, (_, i) => storage.set('github', token(i))));
      const final = await storage.get('github');
      expect(Array.from({ length: 25 }, (_, i) => token(i))).toContainEqual(final);
    });

    if (perUser) {
      it('keeps each user\'s token apart', async () => {
        const [alice, bob] = subject.users!;
        await storage.set('github', token(1), alice);
        expect(await storage.get('github', bob)).toBeNull();
        await storage.set('github', token(2), bob);
        await storage.delete('github', alice);
        expect(await storage.get('github', alice)).toBeNull();
        expect(await storage.get('github', bob)).toEqual(token(2));
      });
    }
  });
}
