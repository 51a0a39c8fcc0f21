import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  InvalidProviderError,
  InvalidTokenError,
  MemoryStorage,
  NullStorage,
  OAuthStorageError,
  SessionStorage,
} from '../src';
import { FileStorage } from '../examples/file-storage';
import { describeStorageContract } from './contract/storage-contract';

describeStorageContract('MemoryStorage', () => ({ storage: new MemoryStorage(), users: [{ userId: 1 }, { user: { id: 2 } }] }), {
  perUser: true,
});

describeStorageContract('SessionStorage', () => ({ storage: new SessionStorage({ session: {} }) }));

describeStorageContract('FileStorage (README example)', () => {
  const directory = mkdtempSync(join(tmpdir(), 'oauth-files-'));
  return { storage: new FileStorage(directory), dispose: () => rmSync(directory, { recursive: true, force: true }) };
});

describe('MemoryStorage', () => {
  it('returns the token it was given for any provider and user, until one is set', async () => {
    const storage = new MemoryStorage({ access_token: 'mock' });
    expect(await storage.get('github')).toEqual({ access_token: 'mock' });
    expect(await storage.get('google', { userId: 7 })).toEqual({ access_token: 'mock' });
    await storage.set('github', { access_token: 'own' }, { userId: 7 });
    expect(await storage.get('github', { userId: 7 })).toEqual({ access_token: 'own' });
    expect(await storage.get('github')).toEqual({ access_token: 'mock' });
  });

  it('refuses a bad token at construction', () => {
    expect(() => new MemoryStorage('nope' as any)).toThrow(InvalidTokenError);
  });
});

describe('SessionStorage', () => {
  it('stores under {provider}_oauth_token by default, and under a custom key template', async () => {
    const session: Record<string, unknown> = {};
    await new SessionStorage({ session }).set('github', { access_token: 'a' });
    await new SessionStorage({ session, key: 'oauth:{provider}' }).set('google', { access_token: 'b' });
    expect(session).toEqual({ github_oauth_token: { access_token: 'a' }, 'oauth:google': { access_token: 'b' } });
  });

  it('keeps providers whose names look like replacement patterns apart', async () => {
    const session: Record<string, unknown> = {};
    const storage = new SessionStorage({ session });
    await storage.set("$'", { access_token: 'dollar-quote' });
    await storage.set('_oauth_token', { access_token: 'plain' });
    expect(await storage.get("$'")).toEqual({ access_token: 'dollar-quote' });
    expect(Object.keys(session).sort()).toEqual(["$'_oauth_token", '_oauth_token_oauth_token']);
  });

  it('reads the current session through a function on every call', async () => {
    const sessions = [{}, {}] as Array<Record<string, unknown>>;
    let current = 0;
    const storage = new SessionStorage({ session: async () => sessions[current] });
    await storage.set('github', { access_token: 'first' });
    current = 1;
    expect(await storage.get('github')).toBeNull();
    current = 0;
    expect(await storage.get('github')).toEqual({ access_token: 'first' });
  });

  it('explains a missing session and a key without {provider}', async () => {
    expect(() => new SessionStorage({ session: {}, key: 'token' })).toThrow(OAuthStorageError);
    const storage = new SessionStorage({ session: () => undefined });
    await expect(storage.get('github')).rejects.toThrow(/no session/);
  });
});

describe('NullStorage', () => {
  it('stores nothing but still checks its input', async () => {
    const storage = new NullStorage();
    await storage.set('github', { access_token: 'a' });
    expect(await storage.get('github')).toBeNull();
    await storage.delete('github');
    await expect(storage.set('github', [] as any)).rejects.toBeInstanceOf(InvalidTokenError);
    await expect(storage.get('')).rejects.toBeInstanceOf(InvalidProviderError);
  });
});
