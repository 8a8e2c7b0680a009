import { z } from 'zod';

/** What every human rollout action says; who acts comes from the signed decision. */
export const RolloutActionArgs = z.object({ reason: z.string().trim().max(2000).optional() });
export type RolloutActionArgs = z.infer<typeof RolloutActionArgs>;

/** Argo's promote: skip the step the rollout is paused on; `full` skips every remaining step. */
export const PromoteArgs = RolloutActionArgs.extend({ full: z.boolean().default(false) });
export type PromoteArgs = z.infer<typeof PromoteArgs>;

export const SetWeightArgs = RolloutActionArgs.extend({
  weight: z
    .number({ error: 'weight must be a number' })
    .min(0, 'weight must be between 0 and 100')
    .max(100, 'weight must be between 0 and 100'),
});
export type SetWeightArgs = z.infer<typeof SetWeightArgs>;

const Actor = z.string().trim().min(1, 'say who you are: --actor <name>');

/**
 * The rollout Updates' argument before decisions were signed: a free-text actor beside the
 * action's arguments. Validators refuse it now; it stays readable because rollouts that were
 * running then have it in their histories and replay through the same handlers.
 */
export const RolloutActionRequest = RolloutActionArgs.extend({ actor: Actor });
export type RolloutActionRequest = z.infer<typeof RolloutActionRequest>;
export const PromoteRequest = PromoteArgs.extend({ actor: Actor });
export type PromoteRequest = z.input<typeof PromoteRequest>;
export const SetWeightRequest = SetWeightArgs.extend({ actor: Actor });
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
