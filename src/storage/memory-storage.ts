import { resolveOwner } from '../internal/owner';
import type { OAuthToken, StorageScope } from '../types';
import { BaseStorage } from './base-storage';

/**
 * Keeps tokens in this process's memory: a stand-in for tests. Given a token,
 * `get` returns it for every provider and user that has nothing of its own;
 * tokens that are `set` are kept per provider and user (the scope's `userId`,
 * or its `user`'s `id`). Every `get` returns a fresh copy.
 */
export class MemoryStorage<User extends { id?: unknown } = { id?: unknown }> extends BaseStorage<User> {
  readonly #fallback: string | null;
  readonly #tokens = new Map<string, string>();

  /** @param token returned by `get` wherever no token was set. */
  constructor(token?: OAuthToken | null) {
    super();
    this.#fallback = token === undefined || token === null ? null : this.serialize(token);
  }

  async get(provider: string, scope?: StorageScope<User>): Promise<OAuthToken | null> {
    const json = this.#tokens.get(await this.#key(provider, scope)) ?? this.#fallback;
    return json === null ? null : JSON.parse(json);
  }

  async set(provider: string, token: OAuthToken, scope?: StorageScope<User>): Promise<void> {
    const key = await this.#key(provider, scope);
    this.#tokens.set(key, this.serialize(token));
  }

  async delete(provider: string, scope?: StorageScope<User>): Promise<void> {
    this.#tokens.delete(await this.#key(provider, scope));
  }

  async #key(provider: string, scope: StorageScope<User> | undefined): Promise<string> {
    this.assertProvider(provider);
    const owner = await resolveOwner([scope], { idOf: (user) => user.id });
    return JSON.stringify([provider, owner === null ? null : String(owner)]);
  }
}
