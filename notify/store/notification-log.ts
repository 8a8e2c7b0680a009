import type { Db } from '../../db/connection.js';
import type { NewNotification } from '../../db/database.js';

/**
 * The record of every notice sent or attempted, appended once per attempt and never
 * changed: what an operator reads to see that a notice never arrived.
 */

export async function recordNotification(db: Db, row: NewNotification): Promise<void> {
  await db.insertInto('notifications').values(row).execute();
}
