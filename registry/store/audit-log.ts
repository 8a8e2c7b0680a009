import type { Kysely } from 'kysely';
import type { Database } from '../../db/database.js';

/**
 * audit_log: append-only, one row per decision or change, written in the same transaction
 * as the change it records (pass the transaction), so an audit row exists exactly when the
 * change committed.
 */
export async function appendAudit(
  db: Kysely<Database>,
  entry: { actor: string; action: string; artifact: string; detail: unknown },
): Promise<void> {
  await db
    .insertInto('audit_log')
    .values({
      actor: entry.actor,
      action: entry.action,
      artifact: entry.artifact,
      detail: JSON.stringify(entry.detail),
    })
    .execute();
}
