import { median, quantile } from './statistics.js';
import type { WeekVerdict } from './week-verdicts.js';

/** One seed's record of one week, as flywheel-seed-run.ts writes it (the fields summarised). */
export interface SeedWeek extends Omit<WeekVerdict, 'candidateDelta'> {
  trueSuccess: number;
  /** True success on the held-out requests in no failure mode; absent in records before arms. */
  routineTrueSuccess?: number | null;
  /** Per failure mode (scenario rule). */
  trueSuccessByRule?: Record<string, number>;
  /** The week's coaching: written, gated, promoted and retired by its rollout, active and candidates after. */
  coaching?: CoachingWeek;
  outcome: string;
  loopTimeSeconds: number | null;
  wallSeconds: number;
  llm: Record<string, { calls: number; tokens: number }>;
}

export interface CoachingWeek {
  created: number;
  gated: number;
  promoted: number;
  retired: number;
  active: number;
  candidates: number;
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
  /** Median over seeds of true success on the routine held-out requests (null: not measured). */
  routineTrueSuccessMedian: number | null;
  /** Median over seeds per failure mode. */
  trueSuccessByRuleMedian: Record<string, number>;
  /** Failure modes at or above FIXED_MODE of their held-out requests right: median over seeds. */
  modesFixedMedian: number | null;
  /**
   * Coaching over seeds: created, gated, promoted and retired summed, active and candidates
   * (after the week) as medians. All zero in the prompt arm.
   */
  coaching: CoachingWeek;
}

/** A failure mode counts as fixed when this share of its held-out requests is answered right. */
export const FIXED_MODE = 0.9;

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
  const routine = seeds.flatMap((s) =>
    typeof s.routineTrueSuccess === 'number' ? [s.routineTrueSuccess] : [],
  );
  const rules = [...new Set(seeds.flatMap((s) => Object.keys(s.trueSuccessByRule ?? {})))].sort();
  const byRule = Object.fromEntries(
    rules.map((r) => [r, round(median(seeds.flatMap((s) => s.trueSuccessByRule?.[r] ?? [])))] as const),
  );
  const fixed = seeds.flatMap((s) =>
    s.trueSuccessByRule ? [Object.values(s.trueSuccessByRule).filter((x) => x >= FIXED_MODE).length] : [],
  );
  const coaching = seeds.map((s) => s.coaching ?? NO_COACHING);
  const sum = (k: keyof CoachingWeek) => coaching.reduce((acc, c) => acc + c[k], 0);
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
    routineTrueSuccessMedian: routine.length ? round(median(routine)) : null,
    trueSuccessByRuleMedian: byRule,
    modesFixedMedian: fixed.length ? median(fixed) : null,
    coaching: {
      created: sum('created'),
      gated: sum('gated'),
      promoted: sum('promoted'),
      retired: sum('retired'),
      active: median(coaching.map((c) => c.active)),
      candidates: median(coaching.map((c) => c.candidates)),
    },
  };
}

const NO_COACHING: CoachingWeek = { created: 0, gated: 0, promoted: 0, retired: 0, active: 0, candidates: 0 };

/** Where an arm is measured against the oracle: "oracle-level" is at least this share of it. */
export const ORACLE_LEVEL = 0.98;

export interface ArmSummary {
  /** The first week whose median true success is at least ORACLE_LEVEL of the oracle; null: none. */
  weeksToOracleLevel: number | null;
  /** Per seed, the first week its production reached ORACLE_LEVEL of the oracle (null: never). */
  seedWeeksToOracleLevel: (number | null)[];
  /** Median over seeds of the starting prompt's routine true success, and the lowest weekly median after it. */
  routineBaseline: number | null;
  routineLowestMedian: number | null;
  /** Weeks whose median routine true success fell more than `tolerance` below the start. */
  routineRegressionWeeks: number[];
  /** Seeds whose own routine true success fell more than `tolerance` below their start in any week. */
  routineRegressionSeeds: number;
  regressionsShipped: number;
  releases: number;
  rollbacks: number;
  falseReleases: number;
  coaching: Omit<CoachingWeek, 'active' | 'candidates'> & { activeAtEnd: number; candidatesAtEnd: number };
}

/**
 * The headline figures of one arm: how soon it reaches oracle level, whether routine
 * requests regressed (their true success against the starting prompt's), what shipped.
 */
export function summarizeArm(
  weeks: readonly WeekSummary[],
  seeds: readonly {
    baselineRoutine?: number | null;
    weeks: readonly { week: number; trueSuccess: number; routineTrueSuccess?: number | null }[];
  }[],
  oracle: number,
  tolerance: number,
): ArmSummary {
  const level = ORACLE_LEVEL * oracle;
  const routineStart = seeds.flatMap((s) =>
    typeof s.baselineRoutine === 'number' ? [s.baselineRoutine] : [],
  );
  const routineBaseline = routineStart.length ? round(median(routineStart)) : null;
  const routine = weeks.flatMap((w) =>
    w.routineTrueSuccessMedian === null ? [] : [w.routineTrueSuccessMedian],
  );
  const total = (k: 'regressionsShipped' | 'releases' | 'rollbacks' | 'falseReleases') =>
    weeks.reduce((acc, w) => acc + w[k], 0);
  const sum = (k: 'created' | 'gated' | 'promoted' | 'retired') =>
    weeks.reduce((acc, w) => acc + w.coaching[k], 0);
  const last = weeks.at(-1);
  return {
    weeksToOracleLevel: weeks.find((w) => w.trueSuccessMedian >= level)?.week ?? null,
    seedWeeksToOracleLevel: seeds.map(
      (s) => [...s.weeks].sort((a, b) => a.week - b.week).find((w) => w.trueSuccess >= level)?.week ?? null,
    ),
    routineBaseline,
    routineLowestMedian: routine.length ? Math.min(...routine) : null,
    routineRegressionWeeks:
      routineBaseline === null
        ? []
        : weeks
            .filter(
              (w) =>
                w.routineTrueSuccessMedian !== null &&
                w.routineTrueSuccessMedian < routineBaseline - tolerance,
            )
            .map((w) => w.week),
    routineRegressionSeeds: seeds.filter((s) =>
      s.weeks.some(
        (w) =>
          typeof s.baselineRoutine === 'number' &&
          typeof w.routineTrueSuccess === 'number' &&
          w.routineTrueSuccess < s.baselineRoutine - tolerance,
      ),
    ).length,
    regressionsShipped: total('regressionsShipped'),
    releases: total('releases'),
    rollbacks: total('rollbacks'),
    falseReleases: total('falseReleases'),
    coaching: {
      created: sum('created'),
      gated: sum('gated'),
      promoted: sum('promoted'),
      retired: sum('retired'),
      activeAtEnd: last?.coaching.active ?? 0,
      candidatesAtEnd: last?.coaching.candidates ?? 0,
    },
  };
}

/**
 * "Coaching fixes situation-specific failure modes within one weekly cycle": over seeds,
 * the failure modes reviewers wrote coaching for in week 1 (right behaviour, right scope, and
 * all of them) and how many of those were fixed (FIXED_MODE of their held-out requests right)
 * in production after week 1.
 */
export function coachedModesFixed(
  seeds: readonly {
    weeks: readonly {
      week: number;
      trueSuccessByRule?: Record<string, number>;
      coachingWritten?: readonly { kind: string; wrongBehaviour: boolean; overBroad: boolean }[];
    }[];
  }[],
): { coached: number; fixed: number; coachedRight: number; fixedRight: number } {
  const out = { coached: 0, fixed: 0, coachedRight: 0, fixedRight: 0 };
  for (const seed of seeds) {
    const week = seed.weeks.find((w) => w.week === 1);
    if (!week) continue;
    for (const c of week.coachingWritten ?? []) {
      if (!c.kind.startsWith('rule:')) continue;
      const fixed = (week.trueSuccessByRule?.[c.kind.slice('rule:'.length)] ?? 0) >= FIXED_MODE;
      const right = !c.wrongBehaviour && !c.overBroad;
      out.coached++;
      if (fixed) out.fixed++;
      if (right) out.coachedRight++;
      if (right && fixed) out.fixedRight++;
    }
  }
  return out;
}
