import { Entity, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { OAuthConsumerEntity } from '../../src';
import { OAuth } from '../../examples/entities/oauth.entity';
import { User } from '../../examples/entities/user.entity';

export { OAuth, User };

/** A user model with string (uuid) primary keys. */
@Entity()
export class Account {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  uuid!: string;
}

/** Only the relation, no FK property, and a join column with its own name. */
@Entity()
export class AccountToken extends OAuthConsumerEntity {
  @ManyToOne(() => Account, { nullable: true, onDelete: 'CASCADE' })
  @JoinColumn({ name: 'account_uuid' })
  user!: Account | null;
}

/** No user relation at all: one app-wide token per provider (a bot). */
@Entity()
export class BotToken extends OAuthConsumerEntity {}

export const allModels = [User, OAuth, Account, AccountToken, BotToken];
