import { inspect } from 'node:util';
import { Column, CreateDateColumn, Index, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import type { OAuthToken } from '../types';
import { appWideUniqueColumns, ownerUniqueColumns } from './owner-indexes';

/** PostgreSQL returns bigint as a string (it may not fit a double); epoch seconds always do. */
const secondsTransformer = {
  to: (value: number | null | undefined) => value,
  from: (value: string | number | null) => (value === null ? null : Number(value)),
};

/**
 * The columns every OAuth token table needs. Extend it with an `@Entity()` that
 * adds a `user` relation to your user model (or none, for app-wide tokens only):
 *
 * ```ts
 * @Entity()
 * class OAuth extends OAuthConsumerEntity {
 *   @Column({ type: 'int', nullable: true }) userId!: number | null;
 *   @ManyToOne(() => User, { nullable: true, onDelete: 'CASCADE' })
 *   @JoinColumn({ name: 'userId' })
 *   user!: User | null;
 * }
 * ```
 *
 * Unique indexes keep one row per provider and user, and one app-wide row
 * (no user) per provider, whoever writes the rows.
 *
 * `util.inspect(row)` and `JSON.stringify(row)` show the class, id and provider
 * but never the token, so rows can be logged safely; `row.token` still holds it.
 */
@Index(ownerUniqueColumns, { unique: true })
@Index(appWideUniqueColumns, { unique: true })
export abstract class OAuthConsumerEntity {
  /** Generated integer primary key. */
  @PrimaryGeneratedColumn()
  id!: number;

  /** Name of the OAuth provider the token is for (`github`, `google`, ...). */
  @Column({ type: 'varchar', length: 50 })
  provider!: string;

  /** The token as the provider returned it. */
  @Column({ type: 'jsonb' })
  token!: OAuthToken;

  /**
   * When the access token expires, in seconds since the epoch (the token's
   * `expires_at`), kept by the storage on every write; null when the token
   * does not say. Indexed, so `findExpiring` does not scan the table.
   */
  @Index()
  @Column({ type: 'bigint', nullable: true, transformer: secondsTransformer })
  expiresAt!: number | null;

  /** Set by the database when the row is inserted. */
  @CreateDateColumn()
  createdAt!: Date;

  /** Set by the database on insert and by every write that replaces the token. */
  @UpdateDateColumn()
  updatedAt!: Date;

  /** Keeps the token out of logs that serialise rows. */
  toJSON(): { entity: string; id: number; provider: string } {
    return { entity: this.constructor.name, id: this.id, provider: this.provider };
  }

  /** Keeps the token out of `console.log` and `util.inspect`. */
  [inspect.custom](): string {
    return `${this.constructor.name} { id: ${inspect(this.id)}, provider: ${inspect(this.provider)} }`;
  }
}
