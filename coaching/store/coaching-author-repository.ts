import type { Db } from '../../db/connection.js';

/** Who wrote each coaching's first version (its author), by coaching id; read-only. */
export async function coachingAuthors(db: Db, ids: readonly string[]): Promise<Map<string, string>> {
  if (ids.length === 0) return new Map();
  const rows = await db
    .selectFrom('coaching_versions')
    .select(['coaching_id', 'created_by'])
    .where('coaching_id', 'in', [...ids])
    .where('version', '=', 1)
    .execute();
  return new Map(rows.map((r) => [r.coaching_id, r.created_by]));
}
