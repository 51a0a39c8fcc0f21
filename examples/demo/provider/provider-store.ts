import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { Adapter, AdapterPayload } from 'oidc-provider';

/**
 * The identity provider's own state (sessions, grants, tokens) in a SQLite
 * file, so tokens it issued still work after the demo restarts, as they would
 * at a real provider. oidc-provider ships only an in-memory adapter, so this
 * small one is written here on better-sqlite3.
 */
export class ProviderStore {
  readonly #db: Database.Database;
  readonly #statements;

  constructor(file: string) {
    mkdirSync(dirname(file), { recursive: true });
    this.#db = new Database(file, { timeout: 5000 });
    this.#db.pragma('journal_mode = WAL');
    this.#db.exec(`
      CREATE TABLE IF NOT EXISTS oidc_model (
        model TEXT NOT NULL,
        id TEXT NOT NULL,
        payload TEXT NOT NULL,
        grant_id TEXT,
        user_code TEXT,
        uid TEXT,
        expires_at INTEGER,
        PRIMARY KEY (model, id)
      );
      CREATE INDEX IF NOT EXISTS oidc_model_grant_id ON oidc_model (grant_id);
      CREATE INDEX IF NOT EXISTS oidc_model_uid ON oidc_model (model, uid);
    `);
    this.#db.prepare('DELETE FROM oidc_model WHERE expires_at <= ?').run(Date.now());
    const live = '(expires_at IS NULL OR expires_at > @now)';
    this.#statements = {
      upsert: this.#db.prepare(
        `INSERT OR REPLACE INTO oidc_model (model, id, payload, grant_id, user_code, uid, expires_at)
         VALUES (@model, @id, @payload, @grantId, @userCode, @uid, @expiresAt)`,
      ),
      find: this.#db.prepare(`SELECT payload FROM oidc_model WHERE model = @model AND id = @id AND ${live}`),
      findByUid: this.#db.prepare(`SELECT payload FROM oidc_model WHERE model = @model AND uid = @uid AND ${live}`),
      findByUserCode: this.#db.prepare(`SELECT payload FROM oidc_model WHERE model = @model AND user_code = @userCode AND ${live}`),
      consume: this.#db.prepare(
        "UPDATE oidc_model SET payload = json_set(payload, '$.consumed', @consumed) WHERE model = @model AND id = @id",
      ),
      destroy: this.#db.prepare('DELETE FROM oidc_model WHERE model = @model AND id = @id'),
      revokeByGrantId: this.#db.prepare('DELETE FROM oidc_model WHERE grant_id = @grantId'),
    };
  }

  /** The adapter factory for oidc-provider's `adapter` option: one adapter per model name. */
  readonly adapter = (model: string): Adapter => {
    const s = this.#statements;
    const payloadOf = (row: unknown) => (row ? (JSON.parse((row as { payload: string }).payload) as AdapterPayload) : undefined);
    return {
      upsert: async (id, payload, expiresIn) => {
        s.upsert.run({
          model,
          id,
          payload: JSON.stringify(payload),
          grantId: payload.grantId ?? null,
          userCode: payload.userCode ?? null,
          uid: payload.uid ?? null,
          expiresAt: expiresIn ? Date.now() + expiresIn * 1000 : null,
        });
      },
      find: async (id) => payloadOf(s.find.get({ model, id, now: Date.now() })),
      findByUid: async (uid) => payloadOf(s.findByUid.get({ model, uid, now: Date.now() })),
      findByUserCode: async (userCode) => payloadOf(s.findByUserCode.get({ model, userCode, now: Date.now() })),
      consume: async (id) => {
        s.consume.run({ model, id, consumed: Math.floor(Date.now() / 1000) });
      },
      destroy: async (id) => {
        s.destroy.run({ model, id });
      },
      revokeByGrantId: async (grantId) => {
        s.revokeByGrantId.run({ grantId });
      },
    };
  };

  close(): void {
    this.#db.close();
  }
}
