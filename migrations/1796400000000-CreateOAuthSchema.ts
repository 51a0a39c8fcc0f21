import { Table, TableForeignKey, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * Creates the example schema (User, and OAuth extending OAuthConsumerEntity)
 * through TypeORM's schema API, so one migration serves PostgreSQL and SQLite.
 * Date column types and defaults come from the driver, as the entity's
 * @CreateDateColumn and @UpdateDateColumn get them.
 */
export class CreateOAuthSchema1796400000000 implements MigrationInterface {
  name = 'CreateOAuthSchema1796400000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const types = queryRunner.connection.driver.mappedDataTypes;
    const timestamp = { type: String(types.createDate), default: types.createDateDefault };
    await queryRunner.createTable(
      new Table({
        name: 'user',
        columns: [
          { name: 'id', type: 'integer', isPrimary: true, isGenerated: true, generationStrategy: 'increment' },
          { name: 'name', type: 'varchar', length: '100', isUnique: true },
        ],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'o_auth',
        columns: [
          { name: 'id', type: 'integer', isPrimary: true, isGenerated: true, generationStrategy: 'increment' },
          { name: 'provider', type: 'varchar', length: '50' },
          { name: 'token', type: 'jsonb' },
          { name: 'createdAt', ...timestamp },
          { name: 'updatedAt', ...timestamp },
          { name: 'userId', type: 'integer', isNullable: true },
        ],
        foreignKeys: [
          new TableForeignKey({
            columnNames: ['userId'],
            referencedTableName: 'user',
            referencedColumnNames: ['id'],
            onDelete: 'CASCADE',
          }),
        ],
        indices: [
          // One row per (provider, user) ...
          new TableIndex({ name: 'IDX_e46999b5791833b4985693fd76', columnNames: ['provider', 'userId'], isUnique: true }),
          // ... and one app-wide row (no user) per provider: NULLs are distinct in the index above.
          new TableIndex({
            name: 'IDX_00e4bea038443d7163fe35dc3c',
            columnNames: ['provider'],
            isUnique: true,
            where: '"userId" IS NULL',
          }),
        ],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('o_auth');
    await queryRunner.dropTable('user');
  }
}
