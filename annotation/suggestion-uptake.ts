import { sameValue } from '../registry/artifact-kinds.js';
import { AgentAction } from '../schemas/trace.js';
import type { LabelSuggestion } from './label-suggestion.js';

/*
 * How often reviewers took the teacher's suggested label unchanged: a queue where nearly every
 * label equals its suggestion may be rubber-stamping the model, and its dataset examples are
 * only as good as the teacher.
 */

/** How often labels took the item's suggestion unchanged, in all and per reviewer. */
export interface SuggestionUptake {
  /** Labels on items that had a suggestion. */
  labelled: number;
  /** Of those, labels equal to the suggestion (verdict, category and step). */
  taken: number;
  byReviewer: Record<string, { labelled: number; taken: number }>;
}

/** What a label is compared with: the suggestion's verdict, category and step. */
type Suggested = Pick<LabelSuggestion, 'verdict' | 'category' | 'expected'>;

export function suggestionUptake(
  rows: readonly {
    reviewer: string;
    label: { verdict: string; category: string | null; expected: unknown };
    suggestion: Suggested;
  }[],
): SuggestionUptake {
  const uptake: SuggestionUptake = { labelled: 0, taken: 0, byReviewer: {} };
  for (const row of rows) {
    const mine = (uptake.byReviewer[row.reviewer] ??= { labelled: 0, taken: 0 });
    const taken = labelMatchesSuggestion(row.label, row.suggestion) ? 1 : 0;
    uptake.labelled += 1;
    uptake.taken += taken;
    mine.labelled += 1;
    mine.taken += taken;
  }
  return uptake;
}

/** Whether a label says what the suggestion says (verdict, category and step alike). */
export function labelMatchesSuggestion(
  label: { verdict: string; category: string | null; expected: unknown },
  suggestion: Suggested,
): boolean {
  if (label.verdict !== suggestion.verdict) return false;
  if (suggestion.verdict === 'pass') return true;
  if ((label.category ?? null) !== suggestion.category) return false;
  return sameStep(label.expected, suggestion.expected);
}

function sameStep(a: unknown, b: AgentAction | null): boolean {
  const left = AgentAction.safeParse(a);
  if (!left.success || b === null) return !left.success && b === null;
  if (left.data.action !== b.action) return false;
  if (b.action === 'respond') return (left.data.content ?? '').trim() === (b.content ?? '').trim();
  return sameValue(left.data.arguments, b.arguments);
}
