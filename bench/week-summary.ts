import { median, quantile } from './statistics.js';
import type { WeekVerdict } from './week-verdicts.js';

/** One seed's record of one week, as flywheel-seed-run.ts writes it (the fields summarised). */
export interface SeedWeek extends Omit<WeekVerdict, 'candidateDelta'> {
  trueSuccess: number;
  outcome: string;
  loopTimeSeconds: number | null;
  wallSeconds: number;
  llm: Record<string, { calls: number; tokens: number }>;
}

export interface WeekSummary {
  week: number;
  trueSuccessMedian: number;
  trueSuccessQ25: number;
  trueSuccessQ75: number;
  /** Median true success as a share of the oracle's. */
  ofOracleMedian: number;
  outcomes: Record<string, number>;
  releases: number;
  rollbacks: number;
  trueRollbacks: number;
  falseRollbacks: number;
  falseReleases: number;
  regressionsShipped: number;
  /** Median over released seeds; null when no seed released this week. */
  loopTimeSecondsMedian: number | null;
  wallSecondsMedian: number;
  /** Mean per seed of LLM calls and tokens, by role. */
  llmPerSeed: Record<string, { calls: number; tokens: number }>;
}

const round = (x: number, digits = 4) => Number(x.toFixed(digits));

/** Median and interquartile range over seeds, counts summed over seeds, for week `week` (1-based). */
export function summarizeWeek(week: number, seeds: readonly SeedWeek[], oracle: number): WeekSummary {
  if (seeds.length === 0) throw new Error(`week ${week}: no seed reported`);
  const success = seeds.map((s) => s.trueSuccess);
  const count = (f: (s: SeedWeek) => boolean) => seeds.filter(f).length;
  const outcomes: Record<string, number> = {};
  for (const s of seeds) outcomes[s.outcome] = (outcomes[s.outcome] ?? 0) + 1;
  const loops = seeds.flatMap((s) => (s.loopTimeSeconds === null ? [] : [s.loopTimeSeconds]));
  const llmPerSeed: Record<string, { calls: number; tokens: number }> = {};
  for (const s of seeds)
    for (const [role, u] of Object.entries(s.llm)) {
      const acc = (llmPerSeed[role] ??= { calls: 0, tokens: 0 });
      acc.calls += u.calls / seeds.length;
      acc.tokens += u.tokens / seeds.length;
    }
  for (const u of Object.values(llmPerSeed)) {
    u.calls = round(u.calls, 1);
    u.tokens = round(u.tokens, 0);
  }
  const mid = median(success);
  return {
    week,
    trueSuccessMedian: round(mid),
    trueSuccessQ25: round(quantile(success, 0.25)),
    trueSuccessQ75: round(quantile(success, 0.75)),
    ofOracleMedian: oracle > 0 ? round(mid / oracle) : 0,
    outcomes,
    releases: count((s) => s.released),
    rollbacks: count((s) => s.rolledBack),
    trueRollbacks: count((s) => s.trueRollback),
    falseRollbacks: count((s) => s.falseRollback),
    falseReleases: count((s) => s.falseRelease),
    regressionsShipped: count((s) => s.regressionShipped),
    loopTimeSecondsMedian: loops.length ? round(median(loops), 1) : null,
    wallSecondsMedian: round(median(seeds.map((s) => s.wallSeconds)), 1),
    llmPerSeed,
  };
}
