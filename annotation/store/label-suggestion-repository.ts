import type { Db } from '../../db/connection.js';
import type { LabelSuggestionRow } from '../../db/database.js';
import { FailureCategory } from '../../schemas/failure-category.js';
import { AgentAction } from '../../schemas/trace.js';
import type { LabelSuggestion } from '../label-suggestion.js';

/**
 * label_suggestions: the teacher's suggested label per annotation item, written once. Two
 * reviewers opening an item at the same moment may both ask the model; the first answer
 * stored is the one everybody sees, the other is dropped.
 */

export interface StoredSuggestion extends LabelSuggestion {
  model: string;
  createdAt: string;
}

/** A stored label's verdict, category and step as a suggestion carries them (unknown values dropped). */
function suggestedLabel(row: Pick<LabelSuggestionRow, 'verdict' | 'category' | 'expected'>) {
  const category = FailureCategory.safeParse(row.category);
  const expected = AgentAction.safeParse(row.expected);
  return {
    verdict: row.verdict,
    category: category.success ? category.data : null,
    expected: expected.success ? expected.data : null,
  };
}

function toSuggestion(row: LabelSuggestionRow): StoredSuggestion {
  return {
    ...suggestedLabel(row),
    reason: row.reason,
    model: row.model,
    createdAt: new Date(row.created_at).toISOString(),
  };
}

export async function storedSuggestion(db: Db, itemId: string): Promise<StoredSuggestion | undefined> {
  const row = await db
    .selectFrom('label_suggestions')
    .selectAll()
    .where('item_id', '=', itemId)
    .executeTakeFirst();
  return row ? toSuggestion(row) : undefined;
}

/** Drops an item's kept suggestion (one the agent's tools no longer accept), so it is asked again. */
export async function forgetSuggestion(db: Db, itemId: string): Promise<void> {
  await db.deleteFrom('label_suggestions').where('item_id', '=', itemId).execute();
}

/** Stores the suggestion unless one is there already; answers the one stored. */
export async function keepSuggestion(
  db: Db,
  itemId: string,
  suggestion: LabelSuggestion,
  model: string,
): Promise<StoredSuggestion> {
  await db
    .insertInto('label_suggestions')
    .values({
      item_id: itemId,
      verdict: suggestion.verdict,
      category: suggestion.category,
      expected: suggestion.expected === null ? null : JSON.stringify(suggestion.expected),
      reason: suggestion.reason,
      model,
    })
    .onConflict((oc) => oc.column('item_id').doNothing())
    .execute();
  const stored = await storedSuggestion(db, itemId);
  if (!stored) throw new Error(`label suggestion for item ${itemId} vanished after it was stored`);
  return stored;
}

/**
 * A queue's labels next to their item's suggestion, for how often reviewers took it: only
 * labels stored after the suggestion (one stored before, or from the CLI before anyone asked,
 * cannot have taken it).
 */
export async function labelsWithSuggestions(db: Db, queueId: string) {
  const rows = await db
    .selectFrom('annotations')
    .innerJoin('annotation_items', 'annotation_items.id', 'annotations.item_id')
    .innerJoin('label_suggestions', 'label_suggestions.item_id', 'annotations.item_id')
    .select([
      'annotations.reviewer',
      'annotations.verdict',
      'annotations.category',
      'annotations.expected',
      'label_suggestions.verdict as suggested_verdict',
      'label_suggestions.category as suggested_category',
      'label_suggestions.expected as suggested_expected',
    ])
    .where('annotation_items.queue_id', '=', queueId)
    .whereRef('label_suggestions.created_at', '<=', 'annotations.created_at')
    .execute();
  return rows.map((r) => ({
    reviewer: r.reviewer,
    label: { verdict: r.verdict, category: r.category, expected: r.expected },
    suggestion: suggestedLabel({
      verdict: r.suggested_verdict,
      category: r.suggested_category,
      expected: r.suggested_expected,
    }),
  }));
}
