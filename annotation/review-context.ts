import { decisiveVerdicts } from '../evaluation/evaluation-cascade.js';
import { Finding } from '../schemas/evaluation.js';
import { displayedCategory } from '../schemas/failure-category.js';

/** A trace's score in the cycle whose queue holds it, as reviewScores reads it. */
export interface ReviewScoreRow {
  trace_id: string;
  evaluator: string;
  dimension: string;
  source: 'code' | 'judge' | 'human';
  label: string;
  value: number;
  confidence: number;
  category: string | null;
  explanation: string;
  findings: unknown[];
}

/**
 * What the reviewer sees beside the trace: the judge's task-completion verdict (or the code
 * check that decided it where the cascade skipped the judge) and the earliest step a
 * failing evaluator pointed at.
 */
export function reviewContext(rows: ReviewScoreRow[], minCodeConfidence: number) {
  const judge = rows.find((r) => r.evaluator === 'judge:task_completion');
  const decided = decisiveVerdicts(
    rows.map((r) => ({ ...r, score: r.value })),
    minCodeConfidence,
  ).get('task_completion');
  const deciding = judge ?? (decided ? rows.find((r) => r.evaluator === decided.evaluator) : undefined);
  let failing: { step: number | null; text: string } | undefined;
  for (const r of rows.filter((x) => x.label === 'fail')) {
    for (const raw of r.findings) {
      const f = Finding.safeParse(raw);
      if (!f.success) continue;
      const candidate = { step: f.data.step, text: `${r.evaluator}: ${f.data.kind} — ${f.data.detail}` };
      if (!failing || (candidate.step !== null && (failing.step === null || candidate.step < failing.step)))
        failing = candidate;
    }
  }
  return {
    judge_label: deciding?.label ?? 'fail',
    // A code check names its finding kind (`wrong_tool`); reviewers see and send the category.
    judge_category: displayedCategory(deciding?.category) ?? null,
    judge_explanation: deciding?.explanation ?? null,
    verdict_source: deciding?.source ?? null,
    failing_step: failing?.step ?? null,
    failing_finding: failing?.text ?? null,
  };
}

/**
 * The judge label of an item a person added to the queue from a trace the cycle did not
 * score: there is no verdict to show, and judge agreement leaves the item out.
 */
export const NOT_SCORED = 'not_scored';

/** The review context of a trace the cycle did not score. */
export const notScoredContext = () => ({
  judge_label: NOT_SCORED,
  judge_category: null,
  judge_explanation: null,
  verdict_source: null,
  failing_step: null,
  failing_finding: null,
});
