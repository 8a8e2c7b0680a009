import { z } from 'zod';

/**
 * Coaching: a situation-scoped corrective example. A reviewer says in which situation it
 * applies ("When a customer asks to move a basic-economy flight") and what the agent should
 * do there (a step); the agent recalls it at serve time in conversations that match the
 * situation. Every change is a new version; one coaching rolls back on its own.
 */

/**
 * `candidate`: created to be gated first (`flywheel eval --coaching candidates`), never
 * recalled in production until an approver promotes it to `active`.
 */
export const COACHING_STATUSES = ['active', 'retired', 'candidate'] as const;
export const CoachingStatus = z.enum(COACHING_STATUSES);
export type CoachingStatus = z.infer<typeof CoachingStatus>;

/** The step the agent should take in the situation. */
export const CoachingBehaviour = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('reply'), text: z.string().trim().min(1).max(4000) }),
  z.object({
    kind: z.literal('tool_call'),
    tool: z.string().trim().min(1).max(200),
    arguments: z.record(z.string(), z.unknown()).default({}),
  }),
  z.object({ kind: z.literal('ask_confirmation'), text: z.string().trim().min(1).max(4000) }),
  z.object({ kind: z.literal('transfer'), reason: z.string().trim().min(1).max(2000) }),
]);
export type CoachingBehaviour = z.infer<typeof CoachingBehaviour>;

/**
 * The fallback recall threshold: a coaching created without one gets a threshold calibrated
 * on the deployment's embedder (coaching/threshold-calibration.ts), and this one only when
 * there is too little evidence (a new agent, no gap between its source and the agent's
 * other conversations). Chosen with the local embedder on the airline scenario: "When a
 * customer asks to move a basic-economy flight" scores 0.34-0.45 on its six requests and at
 * most 0.30 on the 76 others; other embedders score differently (the simulator's 0.25-0.27).
 */
export const DEFAULT_COACHING_THRESHOLD = 0.32;

/**
 * How a coaching created without a threshold got one (coaching/threshold-calibration.ts):
 * `calibrated` from its similarity to its source conversation against the agent's other
 * recent conversations, on the embedder named; `default` when there was too little evidence.
 * Null on a coaching whose author set the threshold, or created before calibration.
 */
export const ThresholdCalibration = z.object({
  rule: z.enum(['calibrated', 'default']),
  embedder: z.string(),
  /** Similarity of the situation to the conversation it was written on; null without one. */
  source: z.number().nullable(),
  /** How many of the agent's other recent conversations were compared. */
  others: z.number().int().nonnegative(),
  /** Of them, how many score above the threshold (taken to be in the same situation). */
  above: z.number().int().nonnegative(),
  /** The gap the threshold sits in: the lowest similarity kept above it and the highest left below. */
  gap: z.object({ upper: z.number(), lower: z.number() }).nullable(),
  threshold: z.number(),
  /** e.g. "calibrated: source 0.25, 5 of 71 other requests at 0.25 or above, the rest 0.17 or below → 0.21" */
  summary: z.string(),
});
export type ThresholdCalibration = z.infer<typeof ThresholdCalibration>;

const Threshold = z
  .number()
  .min(0)
  .max(1)
  .describe('Cosine similarity (0-1) the conversation must reach to recall this coaching');

export const CreateCoachingRequest = z.object({
  situation: z
    .string()
    .trim()
    .min(3)
    .max(2000)
    .describe('When the coaching applies, e.g. "When a customer asks to move a basic-economy flight"'),
  behaviour: CoachingBehaviour,
  /** The user turn the correction was written on; shown to the model as the example's request. */
  example: z.string().trim().min(1).max(4000).optional(),
  sourceTraceId: z.string().trim().min(1).max(200).optional(),
  /** Index in the source trace's messages of the step corrected (default: the trace's decision). */
  sourceStep: z.number().int().nonnegative().optional(),
  threshold: Threshold.optional(),
  reason: z.string().trim().min(1).max(2000).optional(),
  candidate: z
    .boolean()
    .optional()
    .describe(
      'Create it as a candidate: not recalled in production until promoted, so it can go through the gate first (flywheel eval --coaching candidates)',
    ),
});
export type CreateCoachingRequest = z.infer<typeof CreateCoachingRequest>;

export const RetireCoachingRequest = z.object({ reason: z.string().trim().min(1).max(2000) });

export const PromoteCoachingRequest = z.object({ reason: z.string().trim().min(1).max(2000) });

export const RollbackCoachingRequest = z.object({
  to: z.number().int().positive().optional(),
  reason: z.string().trim().min(1).max(2000),
});

/** One message of the conversation so far, as the agent holds it. */
export const RecallMessage = z.object({
  role: z.enum(['system', 'user', 'assistant', 'tool']),
  content: z.string().max(100_000).nullable().default(''),
});
export type RecallMessage = z.infer<typeof RecallMessage>;

export const MAX_RECALL_K = 20;
export const DEFAULT_RECALL_K = 3;
export const DEFAULT_RECALL_TOKENS = 1000;

export const RecallRequest = z.object({
  messages: z.array(RecallMessage).min(1).max(500),
  k: z.number().int().min(1).max(MAX_RECALL_K).default(DEFAULT_RECALL_K),
  /** Estimated tokens the recalled messages may take together. */
  maxTokens: z.number().int().min(1).max(100_000).default(DEFAULT_RECALL_TOKENS),
  /**
   * The prompt version resolve served this conversation (`promptVersionId` of its answer).
   * While a staged rollout carries a coaching set, the conversations its candidate version
   * answers recall the set too; absent: the active coaching only.
   */
  promptVersionId: z.string().min(1).max(200).optional(),
});
export type RecallRequest = z.infer<typeof RecallRequest>;

/** A few-shot message as the OpenAI cookbook writes examples: system messages named example_*. */
export const FewShotMessage = z.object({
  role: z.literal('system'),
  name: z.enum(['example_user', 'example_assistant']).optional(),
  content: z.string(),
});
export type FewShotMessage = z.infer<typeof FewShotMessage>;

export const RecalledCoaching = z.object({
  id: z.string(),
  version: z.number().int(),
  similarity: z.number(),
  tokens: z.number().int(),
});

export const RecallAnswer = z.object({
  agent: z.string(),
  coaching: z.array(RecalledCoaching),
  /** Insert these after the system prompt, before the conversation. */
  messages: z.array(FewShotMessage),
  /** The value of the `flywheel.coaching.ids` trace attribute: `id@version` per coaching applied. */
  traceIds: z.array(z.string()),
});
export type RecallAnswer = z.infer<typeof RecallAnswer>;

export const TestCoachingRequest = z.object({
  /** The conversation to re-run the step on; default: the source trace's messages before its step. */
  messages: z.array(RecallMessage).min(1).max(500).optional(),
  seed: z.number().int().nonnegative().optional(),
});

/** The trace attribute a client sets to say which coaching it applied. */
export const COACHING_TRACE_ATTRIBUTE = 'flywheel.coaching.ids';

/** One memory of a coaching set at the version a gate evaluated. */
export const CoachingSetMember = z.object({ id: z.string().min(1), version: z.number().int().min(1) });
export type CoachingSetMember = z.infer<typeof CoachingSetMember>;

/**
 * Candidate coaching released together: gated as one with the cycle's candidate prompt,
 * recalled for the candidate's share of a staged rollout, promoted when it completes and
 * retired when it rolls back.
 */
export const CoachingSet = z.array(CoachingSetMember);
export type CoachingSet = z.infer<typeof CoachingSet>;

export const coachingTraceId = (c: { id: string; version: number }) => `${c.id}@${c.version}`;
