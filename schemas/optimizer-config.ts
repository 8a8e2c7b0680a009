import { z } from 'zod';

/**
 * The optimize stage's settings, from the agent's configuration (merged over the cycle
 * input's defaults). Every optimizer's knobs default to its reference implementation's.
 */
const Bandit = z.object({
  kind: z.enum(['ucb', 'ucb-e', 'sr', 'bf']).default('ucb'),
  rounds: z.number().int().positive().default(8),
  armsPerRound: z.number().int().positive().default(8),
  samplesPerPull: z.number().int().positive().default(32),
  c: z.number().positive().default(1),
});

export const RandomSearchSettings = z.object({
  proposalsPerCall: z.number().int().positive().max(32).default(8),
  component: z.string().default('system'),
});

export const ProtegiSettings = z.object({
  component: z.string().default('system'),
  rounds: z.number().int().positive().default(6),
  beamSize: z.number().int().positive().default(4),
  minibatchSize: z.number().int().positive().default(64),
  nGradients: z.number().int().positive().default(4),
  errorsPerGradient: z.number().int().positive().default(4),
  gradientsPerError: z.number().int().positive().default(1),
  stepsPerGradient: z.number().int().positive().default(1),
  mcSamplesPerStep: z.number().int().nonnegative().default(2),
  maxExpansionFactor: z.number().int().positive().default(8),
  errorThreshold: z.number().min(0).max(1).default(0.5),
  /**
   * How a round's beam is chosen from its parents and successors: `race` scores them all on
   * the same examples, the ones they fail first, keeping the better half as the examples
   * double (optimizers/arm-race.ts); `bandit` pulls fresh samples per arm (LMOps). Absent
   * from settings recorded before it, which replay with the bandit.
   */
  selection: z.enum(['race', 'bandit']).default('race'),
  /**
   * Examples in a race's first stage (bench:optimizers, 10 seeds: 4 reached 90 % of the
   * oracle on every scenario where 2 missed it on 6 of 10 shop-20-rare runs, and took
   * 20-50 % fewer rollouts than 8 on airline and synthetic-12).
   */
  raceFirstExamples: z.number().int().positive().default(4),
  bandit: Bandit.prefault({}),
});

/**
 * GEPA's default Pareto-set cap (see `paretoSetSize`). Measured on the simulator (20 seeds,
 * 111 train examples, 12 rules): 40 reaches 90 % of the oracle after a median of 673-695
 * rollouts, stratified or not, vs 1,914 uncapped; 20 or fewer lose rules when the set is not
 * stratified (9 of 20 runs never got there).
 */
export const DEFAULT_PARETO_SET_SIZE = 40;

export const GepaSettings = z.object({
  reflectionMinibatchSize: z.number().int().positive().default(3),
  candidateSelection: z.enum(['pareto', 'current_best', 'epsilon_greedy']).default('pareto'),
  epsilon: z.number().min(0).max(1).default(0.1),
  components: z.array(z.string()).default([]),
  skipPerfectScore: z.boolean().default(true),
  perfectScore: z.number().default(1),
  useMerge: z.boolean().default(false),
  maxMergeInvocations: z.number().int().nonnegative().default(5),
  mergeValOverlapFloor: z.number().int().positive().default(5),
  /**
   * Size of the Pareto set (upstream's valset): a seeded subsample of the train split,
   * stratified by cluster, on which the baseline and every accepted child are fully scored;
   * reflection minibatches still come from the whole train split. null = the whole train
   * split (upstream's valset = trainset), whose cost grows with the data.
   */
  paretoSetSize: z.number().int().positive().nullable().default(DEFAULT_PARETO_SET_SIZE),
  /**
   * When programs tie at a perfect Pareto-set score, score the tied ones on the rest of the
   * train split and prefer the best there. A Pareto subsample can miss a rare failure mode;
   * a child that fixes it then only ties its parent, and the tie went to the parent
   * (bench:optimizers, synthetic-12, 20 seeds: final test 0.929 → 0.948, 19 → 20 seeds at
   * 90 % of oracle, same median rollouts; breaking every tie for the best cost 27 % more
   * rollouts to 90 % for 0.952).
   */
  breakTiesOnTrain: z.boolean().default(true),
  /**
   * The Pareto set grows by the examples on which an accepted child beat its parent on the
   * reflection minibatch, when the set lacks them; the programs still in the running are
   * scored on them and the dominated ones retire. A subsample that misses a failure mode
   * otherwise drops the child that fixes it (a tie with its parent) and keeps re-proposing it.
   */
  growParetoSet: z.boolean().default(true),
  /**
   * Once a reflection on a parent's component answers with the parent's own text or with a
   * program already in the pool, the failing examples it was shown are not reflected on again
   * for that parent and component (a minibatch failing only on them is skipped): such a
   * repeated proposal costs a teacher call and no rollout, and asked again about the same
   * failures the teacher mostly repeated itself.
   */
  avoidRepeatedReflections: z.boolean().default(true),
  /**
   * How many of the rewrites already proposed from a parent's component and rejected (the
   * latest ones) the reflection shows the teacher, asking for another (0 = none).
   */
  showTriedReflections: z.number().int().nonnegative().default(5),
  /**
   * A reflection that answers with a rewrite the request listed as already rejected
   * (`showTriedReflections`) is a repeat for `avoidRepeatedReflections` too: its failing
   * examples are not reflected on again for that parent and component. With unfixable
   * failures (mislabelled examples) the teacher kept writing the same rejected rewrites.
   */
  avoidListedRepeats: z.boolean().default(true),
  /**
   * Which of the programs tied for the best score (after `breakTiesOnTrain`) is the pick:
   * `most_edits` (the most ancestors: each is a rewrite accepted for strictly beating its
   * parent on a minibatch), `earliest` (upstream's), `fewest_edits` or `most_wins` (the most
   * Pareto-set instances on which it scores the best any live program does; with pass/fail
   * scores every tied program has as many); the earliest among equals. A small train split
   * cannot tell tied programs apart, held-out ground truth can: week-1 cycles of
   * bench:flywheel (bench/gepa-cycle-probe.ts, 150 runs each) most_edits − earliest true
   * success airline +2.1 pt [+1.3, +2.9], synthetic-12 +0.1 [−0.1, +0.3] (fewest_edits
   * −0.6 / −0.1); bench:optimizers' four scenarios, 200 seeds: final test +0.0 to +0.3 pt,
   * none lower, and earlier at 90 % of the oracle. Settings recorded before it existed lack
   * it and pick the earliest (and workflows/optimize-workflow.ts keeps the earliest for
   * histories started without its patch).
   */
  tieBreak: z.enum(['earliest', 'fewest_edits', 'most_edits', 'most_wins']).default('most_edits'),
});

export const MiproSettings = z.object({
  component: z.string().default('system'),
  numCandidates: z.number().int().min(2).default(6),
  maxBootstrappedDemos: z.number().int().nonnegative().default(4),
  maxLabeledDemos: z.number().int().nonnegative().default(4),
  minibatchSize: z.number().int().positive().default(35),
  minibatchFullEvalSteps: z.number().int().positive().default(5),
  numTrials: z.number().int().positive().nullable().default(null),
  valSize: z.number().int().positive().default(100),
  /**
   * Ground proposals in a summary of the whole train split and of the failures seen so
   * far, as MIPROv2's proposer does; without it, each proposal sees only 10 examples and
   * misses the failure modes they do not show.
   */
  datasetSummary: z.boolean().default(true),
  /** Examples per summarizing call. */
  viewBatchSize: z.number().int().positive().default(10),
  tips: z
    .array(z.string())
    .min(1)
    .default(['none', 'creative', 'simple', 'description', 'high_stakes', 'persona']),
  /**
   * Proposal-and-search rounds; null = as many as the budget buys. After the first (MIPROv2's
   * one round), each round proposes rewrites of the best program so far, grounded in its
   * failures on the validation set, and searches them with the demo sets again. With rounds
   * the proposer's examples are the baseline's failures first. Absent from settings recorded
   * before it, which replay as the single round they ran.
   */
  rounds: z.number().int().positive().nullable().default(null),
});

export const OptimizerChoice = z.discriminatedUnion('name', [
  z.object({ name: z.literal('random-search'), settings: RandomSearchSettings.prefault({}) }),
  z.object({ name: z.literal('protegi'), settings: ProtegiSettings.prefault({}) }),
  z.object({ name: z.literal('gepa'), settings: GepaSettings.prefault({}) }),
  z.object({ name: z.literal('mipro'), settings: MiproSettings.prefault({}) }),
]);
export type OptimizerChoice = z.infer<typeof OptimizerChoice>;
export type OptimizerName = OptimizerChoice['name'];

export const Stopping = z.object({
  patience: z.number().int().positive().nullable().default(null),
  minDelta: z.number().nonnegative().default(0),
  targetScore: z.number().nullable().default(null),
  maxEvaluations: z.number().int().positive().nullable().default(null),
});

/** DSPy-style presets: how many proposals the run should at least be able to buy. */
export const BudgetLevel = z.enum(['light', 'medium', 'heavy']);
export type BudgetLevel = z.infer<typeof BudgetLevel>;

/**
 * The budget when the input names none: a preset, so it scales with the data (a fixed 300
 * rollouts bought ~5 GEPA proposals on a 258-example train split and the demo's second
 * cycle ended no_candidate); chosen from bench:flywheel (see README, Flywheel benchmark).
 */
export const DEFAULT_BUDGET_LEVEL: BudgetLevel = 'light';
/** The rollout budget of optimize histories recorded before budget plans existed. */
export const DEFAULT_MAX_ROLLOUTS = 300;
/** Proposals the default budget and the presets always afford, and below which a run is warned. */
export const DEFAULT_MIN_PROPOSALS = 3;

/**
 * The optimize stage's budget, in one of three forms (at most one may be given):
 * `maxRollouts` (task-model calls, one per candidate × example), `auto` (a preset number of
 * proposals, translated into rollouts from the data's size as DSPy's `auto` is) or
 * `proposals` (that many, translated the same way). With none, `auto` is
 * `DEFAULT_BUDGET_LEVEL`. `optimizers/budget-plan.ts` turns any of them into rollouts.
 *
 * `minProposals` is the floor: a budget that cannot buy that many proposals is raised to
 * it, with a warning before the run. It defaults to `DEFAULT_MIN_PROPOSALS`, except under an
 * explicit `maxRollouts`, which stays a hard cap (0) unless `minProposals` is given too.
 */
export const Budget = z
  .object({
    maxRollouts: z.number().int().positive().optional(),
    auto: BudgetLevel.optional(),
    proposals: z.number().int().positive().optional(),
    minProposals: z.number().int().nonnegative().optional(),
    /**
     * Teacher (optimizer-LM) calls the run may make. Null or absent: the plan's default, two per
     * rollout of the plan (`optimizers/budget-plan.ts`, TEACHER_CALLS_PER_ROLLOUT), so no cycle's
     * teacher calls are unbounded.
     */
    maxTeacherCalls: z.number().int().positive().nullable().default(null),
  })
  .refine((b) => [b.maxRollouts, b.auto, b.proposals].filter((x) => x !== undefined).length <= 1, {
    message:
      'give at most one of maxRollouts, auto and proposals (e.g. { "auto": "medium" } or { "maxRollouts": 1500 })',
  })
  .transform((b) => {
    const given = b.maxRollouts !== undefined || b.auto !== undefined || b.proposals !== undefined;
    const hardCap = b.maxRollouts !== undefined;
    return {
      ...b,
      ...(given ? {} : { auto: DEFAULT_BUDGET_LEVEL }),
      minProposals: b.minProposals ?? (hardCap ? 0 : DEFAULT_MIN_PROPOSALS),
    };
  });
export type Budget = z.infer<typeof Budget>;
export type BudgetArg = z.input<typeof Budget>;

/** "auto: medium", "40 proposals" or "300 rollouts": how summaries name a budget. */
export function describeBudget(budget: BudgetArg): string {
  if (budget.auto !== undefined) return `auto: ${budget.auto}`;
  if (budget.proposals !== undefined) return `${budget.proposals} proposals`;
  if (budget.maxRollouts !== undefined) return `${budget.maxRollouts} rollouts`;
  return `auto: ${DEFAULT_BUDGET_LEVEL}`;
}
