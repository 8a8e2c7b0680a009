import { sql, type Kysely } from 'kysely';

// Frozen in time: this migration imports nothing from the app and uses Kysely<any>.
//
// A coaching can be created as a candidate: gated first (`flywheel eval --coaching
// candidates`), recalled in production only once an approver promotes it to active.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    alter table coaching_versions drop constraint coaching_versions_status_check;
    alter table coaching_versions add constraint coaching_versions_status_check
      check (status in ('active', 'retired', 'candidate'));
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`
    update coaching_versions set status = 'retired' where status = 'candidate';
    alter table coaching_versions drop constraint coaching_versions_status_check;
    alter table coaching_versions add constraint coaching_versions_status_check
      check (status in ('active', 'retired'));
  `.execute(db);
}
