import type { Evaluation } from '../schemas/evaluation.js';
import { unitInterval } from '../optimizers/stable-hash.js';

export interface CascadeOptions {
  enabled: boolean;
  minCodeConfidence: number;
  auditShare: number;
}

export interface CascadePlan {
  /** Rubric dimensions to send to the judge for this trace. */
  judge: string[];
  /** Dimensions a confident code check already decided. */
  decidedByCode: string[];
  /** Picked for the audit share: judged although code decided, to keep measuring the judge. */
  audited: boolean;
}

/**
 * Cheap checks first: the judge only scores a dimension where no code check is confident
 * about it (silent, or below `minCodeConfidence`). A deterministic share of traces is still
 * judged in full, so judge-vs-code and judge-vs-human agreement stay measurable.
 */
export function planJudgeCalls(
  code: readonly Evaluation[],
  judgeDimensions: readonly string[],
  options: CascadeOptions,
  auditKey: string,
): CascadePlan {
  const decided = new Set(
    code.filter((e) => e.confidence >= options.minCodeConfidence).map((e) => e.dimension),
  );
  const decidedByCode = judgeDimensions.filter((d) => decided.has(d));
  if (!options.enabled) return { judge: [...judgeDimensions], decidedByCode, audited: false };
  const audited = decidedByCode.length > 0 && unitInterval(`audit|${auditKey}`) < options.auditShare;
  return {
    judge: audited ? [...judgeDimensions] : judgeDimensions.filter((d) => !decided.has(d)),
    decidedByCode,
    audited,
  };
}

export interface DimensionVerdict {
  dimension: string;
  label: string;
  score: number;
  source: Evaluation['source'];
  evaluator: string;
  category: string | null;
}

const RANK = { human: 0, code: 1, judge: 2 } as const;

/**
 * The verdict that counts per dimension: a human label over everything, then a confident
 * code check, then the judge; among equals the lowest score (a failing check is not
 * outvoted by a passing one on the same dimension).
 */
export function decisiveVerdicts(
  evaluations: readonly Pick<
    Evaluation,
    'dimension' | 'label' | 'score' | 'source' | 'evaluator' | 'confidence' | 'category'
  >[],
  minCodeConfidence: number,
): Map<string, DimensionVerdict> {
  const best = new Map<string, DimensionVerdict & { rank: number }>();
  for (const e of evaluations) {
    const rank = e.source === 'code' && e.confidence < minCodeConfidence ? RANK.judge + 1 : RANK[e.source];
    const current = best.get(e.dimension);
    if (current && (current.rank < rank || (current.rank === rank && current.score <= e.score))) continue;
    best.set(e.dimension, {
      dimension: e.dimension,
      label: e.label,
      score: e.score,
      source: e.source,
      evaluator: e.evaluator,
      category: e.category,
      rank,
    });
  }
  return new Map([...best].map(([d, { rank: _rank, ...v }]) => [d, v]));
}
