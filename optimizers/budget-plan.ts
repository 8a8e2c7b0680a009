import { raceCost } from './arm-race.js';
import {
  DEFAULT_MIN_PROPOSALS,
  type Budget,
  type BudgetLevel,
  type OptimizerChoice,
} from '../schemas/optimizer-config.js';

/**
 * Turns a budget users reason about (a preset, a number of proposals, or raw rollouts) into
 * the rollouts a run may spend, from the data's size — as DSPy's `auto` derives trials and
 * the valset size — and guarantees every run can afford `minProposals` proposals: a budget
 * the baseline's evaluation would eat is raised to that floor, with a warning recorded
 * before the run starts (a run that ends `no_candidate` because it never proposed anything
 * wastes the labels the cycle waited for; the floor is small because GEPA's Pareto set is
 * capped). An explicit `maxRollouts` stays a hard cap unless `minProposals` is set with it:
 * below the minimum it is only warned about, since it is a spending limit someone wrote down.
 */

/**
 * Proposals per preset for an agent with one component, in DSPy's 1 : 2 : 3 ratio (its
 * 6 / 12 / 18 candidates), sized from GEPA on the simulator (20 seeds, Pareto set 40; see
 * README, Optimizers): light reaches 90 % of the oracle on the 6-rule airline scenario in
 * 20 of 20 seeds; medium does on the 12-rule synthetic one when the Pareto set is
 * stratified by failure mode (17 of 20 when not); heavy is where the unstratified runs
 * plateau (19 of 20, as at twice the budget).
 */
export const AUTO_PROPOSALS: Readonly<Record<BudgetLevel, number>> = { light: 12, medium: 24, heavy: 36 };

/**
 * Teacher calls a run may make per rollout of its plan when the budget sets no
 * `maxTeacherCalls`, on top of those an optimizer makes before its first proposal
 * (`setupTeacherCalls`). A GEPA reflection whose text was tried before costs a teacher call and
 * no rollout, so the rollout budget alone bounded teacher calls only through GEPA's idle limit
 * (200 iterations without a rollout): in the committed bench:flywheel run (60 cycles) a cycle
 * made up to 2,513 teacher calls on a plan of 2,432 rollouts, 1.03 per rollout at most. Two per
 * rollout leaves every measured run as it was and bounds what a cycle can spend.
 */
export const TEACHER_CALLS_PER_ROLLOUT = 2;

export interface ProposalCost {
  /** What one proposal is for this optimizer. */
  unit: string;
  /** Rollouts before the first proposal: the baseline's evaluation (MIPRO: and bootstrapping). */
  baselineRollouts: number;
  /** At most this many rollouts per proposal (GEPA: two minibatches and a full evaluation). */
  rolloutsPerProposal: number;
  /** Examples a full evaluation scores: GEPA's Pareto set, MIPRO's val set, else the train split. */
  evaluationSetSize: number;
}

export interface BudgetPlan extends ProposalCost {
  maxRollouts: number;
  /**
   * The budget's `maxTeacherCalls`, else `setupTeacherCalls` + TEACHER_CALLS_PER_ROLLOUT ×
   * `maxRollouts`. Null only in plans recorded before that default, which ran unbounded.
   */
  maxTeacherCalls: number | null;
  /** Where maxTeacherCalls came from; absent in plans recorded before the default. */
  teacherCallSource?: 'maxTeacherCalls' | 'default';
  /** Where maxRollouts came from. */
  source: 'maxRollouts' | 'auto' | 'proposals' | 'floor';
  /** Proposals the budget buys even if every one is accepted (rejected ones cost less). */
  proposals: number;
  minProposals: number;
  /** Said before the run starts; recorded with the run and shown in the cycle's status. */
  warnings: string[];
}

export function proposalCost(choice: OptimizerChoice, trainSize: number): ProposalCost {
  switch (choice.name) {
    case 'gepa': {
      const s = choice.settings;
      const v = s.paretoSetSize === null ? trainSize : Math.min(s.paretoSetSize, trainSize);
      const mb = Math.min(s.reflectionMinibatchSize, trainSize);
      return {
        unit: 'reflective proposal',
        baselineRollouts: v,
        rolloutsPerProposal: 2 * mb + v,
        evaluationSetSize: v,
      };
    }
    case 'random-search':
      return {
        unit: 'rewrite',
        baselineRollouts: trainSize,
        rolloutsPerProposal: trainSize,
        evaluationSetSize: trainSize,
      };
    case 'protegi': {
      // One expansion round, shared by its successors (at most maxExpansionFactor per beam
      // member): the race's stages, or a minibatch per beam member and the bandit's pulls.
      const s = choice.settings;
      const successors = s.beamSize * s.maxExpansionFactor;
      // A race's parents are scored on the whole train split already (the cache serves their minibatch).
      const round =
        s.selection === 'race'
          ? raceCost(successors, s.beamSize, trainSize, s.raceFirstExamples)
          : s.beamSize * Math.min(s.minibatchSize, trainSize) +
            s.bandit.rounds * s.bandit.armsPerRound * s.bandit.samplesPerPull;
      return {
        unit: 'successor',
        baselineRollouts: trainSize,
        rolloutsPerProposal: Math.ceil(round / successors),
        evaluationSetSize: trainSize,
      };
    }
    case 'mipro': {
      // A trial: one minibatch plus its share of the periodic full evaluation on the val set.
      const s = choice.settings;
      const nVal = trainSize < 4 ? trainSize : Math.min(s.valSize, Math.floor(trainSize / 2));
      const bootstrapping = Math.max(0, s.numCandidates - 2) * 2 * s.maxBootstrappedDemos;
      return {
        unit: 'trial',
        baselineRollouts: nVal + Math.min(bootstrapping, trainSize),
        rolloutsPerProposal: Math.min(s.minibatchSize, nVal) + Math.ceil(nVal / s.minibatchFullEvalSteps),
        evaluationSetSize: nVal,
      };
    }
  }
}

/**
 * Teacher calls an optimizer makes before its first proposal whatever the budget: MIPRO's
 * dataset summary (one call per `viewBatchSize` examples of the whole train split) and its
 * instruction proposals; the others start proposing at once.
 */
export function setupTeacherCalls(choice: OptimizerChoice, trainSize: number): number {
  if (choice.name !== 'mipro') return 0;
  const s = choice.settings;
  return (s.datasetSummary ? Math.ceil(trainSize / s.viewBatchSize) : 0) + Math.max(0, s.numCandidates - 1);
}

/**
 * Proposals of a preset. GEPA edits one component per proposal, round-robin, so agents
 * with tool descriptions get more, growing with log2 of the component count as DSPy's
 * trial count grows with its predictors.
 */
export function autoProposals(level: BudgetLevel, choice: OptimizerChoice, components: number): number {
  const base = AUTO_PROPOSALS[level];
  if (choice.name !== 'gepa') return base;
  const edited = choice.settings.components.length || components;
  return edited <= 1 ? base : Math.ceil(base * (1 + Math.log2(edited)));
}

export function planBudget(
  choice: OptimizerChoice,
  budget: Budget,
  data: { trainSize: number; components: number },
): BudgetPlan {
  const cost = proposalCost(choice, data.trainSize);
  const rolloutsFor = (proposals: number) => cost.baselineRollouts + proposals * cost.rolloutsPerProposal;
  const affordable = (rollouts: number) =>
    Math.max(0, Math.floor((rollouts - cost.baselineRollouts) / cost.rolloutsPerProposal));
  let maxRollouts: number;
  let source: BudgetPlan['source'];
  if (budget.auto !== undefined) {
    maxRollouts = rolloutsFor(autoProposals(budget.auto, choice, data.components));
    source = 'auto';
  } else if (budget.proposals !== undefined) {
    maxRollouts = rolloutsFor(budget.proposals);
    source = 'proposals';
  } else {
    maxRollouts = budget.maxRollouts ?? rolloutsFor(AUTO_PROPOSALS.light);
    source = 'maxRollouts';
  }
  const warnings: string[] = [];
  const { minProposals } = budget;
  const shortOf = (rollouts: number) =>
    `${rollouts} rollouts buy ${affordable(rollouts)} ${cost.unit}s of ${choice.name} on ${data.trainSize} train ` +
    `examples (the baseline costs ${cost.baselineRollouts} on an evaluation set of ${cost.evaluationSetSize}, ` +
    `each ${cost.unit} up to ${cost.rolloutsPerProposal})`;
  if (affordable(maxRollouts) < minProposals) {
    const floor = rolloutsFor(minProposals);
    warnings.push(
      `Budget below the floor: ${shortOf(maxRollouts)}; raised to ${floor} rollouts for the minimum of ` +
        `${minProposals}. Set optimizer.budget.auto (light, medium, heavy) or a larger maxRollouts.`,
    );
    maxRollouts = floor;
    source = 'floor';
  } else if (affordable(maxRollouts) < DEFAULT_MIN_PROPOSALS) {
    // An explicit maxRollouts is a hard cap: said before the run, not overridden.
    warnings.push(
      `Small budget: ${shortOf(maxRollouts)}, so the run may end without a candidate. ` +
        `Set optimizer.budget.auto (light, medium, heavy), a larger maxRollouts, or minProposals to raise it to a floor.`,
    );
  }
  // GEPA makes one teacher call per proposal; the other optimizers batch theirs.
  const wanted = Math.max(minProposals, DEFAULT_MIN_PROPOSALS);
  if (choice.name === 'gepa' && budget.maxTeacherCalls !== null && budget.maxTeacherCalls < wanted) {
    warnings.push(
      `maxTeacherCalls ${budget.maxTeacherCalls} cannot buy ${wanted} ${cost.unit}s (one teacher call each); ` +
        'raise maxTeacherCalls or leave it unset.',
    );
  }
  const teacherCap = budget.maxTeacherCalls;
  return {
    ...cost,
    maxRollouts,
    maxTeacherCalls:
      teacherCap ?? setupTeacherCalls(choice, data.trainSize) + TEACHER_CALLS_PER_ROLLOUT * maxRollouts,
    teacherCallSource: teacherCap === null ? 'default' : 'maxTeacherCalls',
    source,
    proposals: affordable(maxRollouts),
    minProposals,
    warnings,
  };
}
