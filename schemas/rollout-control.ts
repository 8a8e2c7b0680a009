import { z } from 'zod';

const Actor = z.string().trim().min(1, 'say who you are: --actor <name>');

/** The body of every human rollout action; the audit log records actor and reason. */
export const RolloutActionRequest = z.object({
  actor: Actor,
  reason: z.string().trim().max(2000).optional(),
});
export type RolloutActionRequest = z.infer<typeof RolloutActionRequest>;

/** Argo's promote: skip the step the rollout is paused on; `full` skips every remaining step. */
export const PromoteRequest = RolloutActionRequest.extend({ full: z.boolean().default(false) });
export type PromoteRequest = z.input<typeof PromoteRequest>;

export const SetWeightRequest = RolloutActionRequest.extend({
  weight: z
    .number({ error: 'weight must be a number' })
    .min(0, 'weight must be between 0 and 100')
    .max(100, 'weight must be between 0 and 100'),
});
export type SetWeightRequest = z.infer<typeof SetWeightRequest>;

export type RolloutPhase = 'progressing' | 'paused' | 'completed' | 'rolled_back';

/** What `rolloutStatus` returns and every rollout update answers with. */
export interface RolloutState {
  rolloutId: string;
  agent: string;
  phase: RolloutPhase;
  stepIndex: number;
  steps: string[];
  weight: number;
  pausedReason: string | null;
  /** The last analysis, replay or shadow verdict with its reason. */
  lastResult: string | null;
  reason: string | null;
}
