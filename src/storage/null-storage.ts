import type { OAuthToken } from '../types';
import { BaseStorage } from './base-storage';

/**
 * Stores nothing: `get` always resolves to null. For apps that use OAuth only
 * to log users in and never call the provider's API afterwards. Input is still
 * checked, so code that works against it works against a real storage.
 */
export class NullStorage extends BaseStorage {
  async get(provider: string): Promise<OAuthToken | null> {
    this.assertProvider(provider);
    return null;
  }

  async set(provider: string, token: OAuthToken): Promise<void> {
    this.assertProvider(provider);
    this.serialize(token);
  }

  async delete(provider: string): Promise<void> {
    this.assertProvider(provider);
  }
}
