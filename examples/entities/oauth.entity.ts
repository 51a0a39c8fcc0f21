import { Column, Entity, JoinColumn, ManyToOne } from 'typeorm';
import { OAuthConsumerEntity } from '../../src';
import { User } from './user.entity';

/** The example app's token table: OAuthConsumerEntity plus a relation to User. */
@Entity()
export class OAuth extends OAuthConsumerEntity {
  @Column({ type: 'int', nullable: true })
  userId!: number | null;

  @ManyToOne(() => User, { nullable: true, onDelete: 'CASCADE' })
  @JoinColumn({ name: 'userId' })
  user!: User | null;
}
