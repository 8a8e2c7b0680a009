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
  bandit: Bandit.prefault({}),
});

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
  /** null = the whole train set serves as both feedback and Pareto set (upstream's valset=trainset). */
  paretoSetSize: z.number().int().positive().nullable().default(null),
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
  tips: z
    .array(z.string())
    .min(1)
    .default(['none', 'creative', 'simple', 'description', 'high_stakes', 'persona']),
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

export const Budget = z.object({
  maxRollouts: z.number().int().positive().default(300),
  maxTeacherCalls: z.number().int().positive().nullable().default(null),
});
