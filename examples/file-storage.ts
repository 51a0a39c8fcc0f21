import { existsSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { BaseStorage, type OAuthToken } from '../src';

/** A custom storage: one JSON file per provider, as in Flask-Dance's FileStorage example. */
export class FileStorage extends BaseStorage {
  constructor(private readonly directory: string) {
    super();
  }

  async get(provider: string): Promise<OAuthToken | null> {
    const path = this.path(provider);
    return existsSync(path) ? JSON.parse(await readFile(path, 'utf8')) : null;
  }

  async set(provider: string, token: OAuthToken): Promise<void> {
    const json = this.serialize(token); // validates before the file is touched
    await writeFile(this.path(provider), json);
  }

  async delete(provider: string): Promise<void> {
    await rm(this.path(provider), { force: true });
  }

  private path(provider: string): string {
    this.assertProvider(provider);
    return `${this.directory}/${encodeURIComponent(provider)}.json`;
  }
}
