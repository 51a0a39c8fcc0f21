import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

/** The example app's users: the rows OAuth tokens belong to. */
@Entity()
export class User {
  @PrimaryGeneratedColumn()
  id!: number;

  @Column({ type: 'varchar', length: 100, unique: true })
  name!: string;
}
