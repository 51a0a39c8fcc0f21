import { TableColumn, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * Adds the indexed `expiresAt` column (seconds since the epoch) that
 * `findExpiring` reads. Existing rows get it on their next write: encrypted
 * tokens cannot be read by SQL to fill it in.
 */
export class AddTokenExpiry1796500000000 implements MigrationInterface {
  name = 'AddTokenExpiry1796500000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.addColumn('o_auth', new TableColumn({ name: 'expiresAt', type: 'bigint', isNullable: true }));
    await queryRunner.createIndex('o_auth', new TableIndex({ name: 'IDX_00c9b884a69e9e9048804b2245', columnNames: ['expiresAt'] }));
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropIndex('o_auth', 'IDX_00c9b884a69e9e9048804b2245');
    await queryRunner.dropColumn('o_auth', 'expiresAt');
  }
}
