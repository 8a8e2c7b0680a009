import type { Db } from '../../db/connection.js';
import { z } from 'zod';
import type { Candidate } from '../../optimizers/prompt-search.js';

/** candidates.components: component → prompt_texts.id. */
const CandidateComponents = z.record(z.string(), z.string());

/**
 * candidates: one row per optimizer candidate, IDs namespaced by run (`<runId>/<candidateId>`).
 * Rows are written once (insert on conflict do nothing) and never changed, so a retried
 * activity and a concurrent writer of the same candidate both end with the first row.
 */

export async function candidateExists(db: Db, id: string): Promise<boolean> {
  const row = await db.selectFrom('candidates').select('id').where('id', '=', id).executeTakeFirst();
  return row !== undefined;
}

export async function insertCandidate(
  db: Db,
  row: { id: string; runId: string; promptText: string; rationale: string; components: Candidate },
): Promise<void> {
  await db
    .insertInto('candidates')
    .values({
      id: row.id,
      run_id: row.runId,
      prompt_text: row.promptText,
      rationale: row.rationale,
      parent_id: null,
      components: JSON.stringify(row.components),
    })
    .onConflict((oc) => oc.column('id').doNothing())
    .execute();
}

/** A candidate with its run and cycle, for re-evaluation on another split; throws when absent. */
export function candidateWithRun(db: Db, id: string) {
  return db
    .selectFrom('candidates')
    .innerJoin('optimization_runs as run', 'run.id', 'candidates.run_id')
    .select(['candidates.run_id', 'candidates.components', 'run.cycle_id'])
    .where('candidates.id', '=', id)
    .executeTakeFirstOrThrow();
}

/** The rendered system prompt of a candidate; throws when absent. */
export async function candidatePromptText(db: Db, id: string): Promise<string> {
  const row = await db
    .selectFrom('candidates')
    .select('prompt_text')
    .where('id', '=', id)
    .executeTakeFirstOrThrow();
  return row.prompt_text;
}

/**
 * A candidate's components with their texts (component → text), as a release registers
 * them; null for a candidate made outside an optimizer (no components). Throws when the
 * candidate or one of its texts is absent.
 */
export async function candidateComponentTexts(db: Db, id: string): Promise<Record<string, string> | null> {
  const row = await db
    .selectFrom('candidates')
    .select('components')
    .where('id', '=', id)
    .executeTakeFirstOrThrow();
  if (row.components === null) return null;
  const components = CandidateComponents.parse(row.components);
  const ids = [...new Set(Object.values(components))];
  const texts =
    ids.length === 0
      ? []
      : await db.selectFrom('prompt_texts').select(['id', 'text']).where('id', 'in', ids).execute();
  const byId = new Map(texts.map((t) => [t.id, t.text]));
  return Object.fromEntries(
    Object.entries(components).map(([component, textId]) => {
      const text = byId.get(textId);
      if (text === undefined) throw new Error(`candidate ${id}: text ${textId} of ${component} not found`);
      return [component, text];
    }),
  );
}
