import type { IndexMetadata } from 'typeorm/metadata/IndexMetadata';

/**
 * The two unique indexes that make "one row per (provider, user), and one
 * app-wide row per provider" a rule of the database rather than of this code.
 *
 * Ordinary unique indexes treat NULLs as distinct on both PostgreSQL and SQLite,
 * so `UNIQUE (provider, userId)` alone lets any number of app-wide rows
 * (`userId IS NULL`) pile up. The app-wide rows get a second, partial index:
 * `UNIQUE (provider) WHERE userId IS NULL`.
 *
 * The base entity cannot name the user join column: the app declares the
 * relation and picks its column name. TypeORM resolves an index's columns by
 * calling its column function during metadata building, bound to the index
 * metadata of the concrete entity, with relations and join columns already
 * built. That is the one moment the join column's real name is known, so the
 * partial index sets its `where` clause there. The schema test checks the
 * resulting indexes on both databases.
 */

type PropertiesMap = Record<string, string>;

/** `UNIQUE (provider, user)`, or `UNIQUE (provider)` for a model without a user relation. */
export function ownerUniqueColumns(properties: PropertiesMap): string[] {
  return properties.user ? [properties.provider, properties.user] : [properties.provider];
}

/** `UNIQUE (provider) WHERE <user column> IS NULL`: at most one app-wide row per provider. */
export function appWideUniqueColumns(this: IndexMetadata, properties: PropertiesMap): string[] {
  const metadata = this.entityMetadata;
  const userColumn = metadata.relations.find((r) => r.propertyName === 'user')?.joinColumns[0];
  const escape = (name: string) => metadata.connection.driver.escape(name);
  // Without a user relation every row is app-wide and the first index already
  // covers them; this one then holds no rows at all (provider is never NULL).
  const nullColumn = userColumn ? userColumn.databaseName : metadata.findColumnWithPropertyName('provider')!.databaseName;
  this.where = `${escape(nullColumn)} IS NULL`;
  return [properties.provider];
}
