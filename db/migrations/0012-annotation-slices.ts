import { sql, type Kysely } from 'kysely';

// Frozen in time: this migration imports nothing from the app and uses Kysely<any>.
//
// Reviewers flag the slices an item belongs to (e.g. `adversarial`) on their label; the
// cycle's dataset build copies them onto the item's dataset example.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`alter table annotations add column slices text[] not null default '{}'`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`alter table annotations drop column slices`.execute(db);
}
