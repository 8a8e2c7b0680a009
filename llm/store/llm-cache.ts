import type { Db } from '../../db/connection.js';
import type { LlmCacheEntryRow } from '../../db/database.js';

/**
 * Model responses by a hash of the whole request. An entry is written once and never
 * changes: concurrent writers of the same key keep the first response.
 */

/** The stored response for `key`; undefined when the request was never answered. */
export async function cachedResponse(
  db: Db,
  key: string,
): Promise<Pick<LlmCacheEntryRow, 'response'> | undefined> {
  return db.selectFrom('llm_cache').select('response').where('key', '=', key).executeTakeFirst();
}

export async function storeResponse(db: Db, key: string, response: unknown): Promise<void> {
  await db
    .insertInto('llm_cache')
    .values({ key, response: JSON.stringify(response) })
    .onConflict((oc) => oc.column('key').doNothing())
    .execute();
}
