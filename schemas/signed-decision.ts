import { z } from 'zod';
import { ApproveArgs, RejectArgs } from './approval.js';
import { PromoteArgs, RolloutActionArgs, SetWeightArgs } from './rollout-control.js';

/**
 * A human decision (approve, reject, a rollout action) as the API signs it for the person
 * authentication established, and as a workflow's Update validator verifies it: who, what,
 * for which workflow, when, and a nonce so that one signed decision applies once.
 */

/** What a person may decide; the Update with the action's name carries the decision. */
export const DecisionAction = z.enum([
  'approve',
  'reject',
  'promote',
  'pause',
  'resume',
  'abort',
  'setWeight',
]);
export type DecisionAction = z.infer<typeof DecisionAction>;

/** Each action's arguments. */
export const DECISION_ARGS = {
  approve: ApproveArgs,
  reject: RejectArgs,
  promote: PromoteArgs,
  pause: RolloutActionArgs,
  resume: RolloutActionArgs,
  abort: RolloutActionArgs,
  setWeight: SetWeightArgs,
} as const satisfies Record<DecisionAction, z.ZodType>;
export type DecisionArgs<A extends DecisionAction> = z.output<(typeof DECISION_ARGS)[A]>;

/** How long a signed decision may be used: long enough for one HTTP request to reach the workflow. */
export const DECISION_TTL_SECONDS = 5 * 60;
/** The longest lifetime a validator accepts, whatever the signer wrote. */
export const MAX_DECISION_LIFETIME_SECONDS = 15 * 60;
/** How far the signer's clock may run ahead of workflow time. */
export const DECISION_CLOCK_SKEW_SECONDS = 60;

/** A key id: named in every decision it signs, so workers pick the public key to verify with. */
export const DecisionKeyId = z
  .string()
  .regex(/^[A-Za-z0-9._-]{1,64}$/, 'a decision key id is 1-64 letters, digits, dots, dashes or underscores');

/** An Ed25519 key (the 32-byte private seed or the public key), base64url without padding. */
export const Ed25519Key = z
  .string()
  .regex(/^[A-Za-z0-9_-]{43}$/, 'an Ed25519 key is 32 bytes written as 43 base64url characters');

/** The public keys workers verify decisions with, by key id. */
export const DecisionKeyring = z.record(DecisionKeyId, Ed25519Key);
export type DecisionKeyring = z.infer<typeof DecisionKeyring>;

/** The key the API signs with. */
export const DecisionSigningKey = z.object({ kid: DecisionKeyId, privateKey: Ed25519Key });
export type DecisionSigningKey = z.infer<typeof DecisionSigningKey>;

/** The signed fields; `args` is checked against the action's own schema. */
export const DecisionPayload = z.object({
  v: z.literal(1),
  kid: DecisionKeyId,
  /** The person who decided, as the API authenticated them. */
  principal: z.object({ kind: z.literal('user'), id: z.string().min(1).max(200) }),
  action: DecisionAction,
  /** The cycle's or rollout's workflow ID: a decision for one workflow is refused by every other. */
  workflowId: z.string().min(1).max(1000),
  args: z.record(z.string(), z.unknown()),
  issuedAt: z.iso.datetime({ offset: true }),
  expiresAt: z.iso.datetime({ offset: true }),
  /** Random: a validator refuses a nonce its workflow already accepted. */
  nonce: z.string().regex(/^[A-Za-z0-9_-]{16,64}$/, 'a nonce is 16-64 base64url characters'),
});
export type DecisionPayload = z.infer<typeof DecisionPayload>;

/** A decision to `A`, its arguments checked against that action's schema. */
export type Decision<A extends DecisionAction = DecisionAction> = Omit<DecisionPayload, 'action' | 'args'> & {
  action: A;
  args: DecisionArgs<A>;
};

/**
 * What travels as an Update's argument. `payload` is the decision's JSON text exactly as it
 * was signed (its UTF-8 bytes are the signed message), so verifying never depends on how
 * anything re-serializes the object; `signature` is the 64-byte Ed25519 signature, base64url.
 */
export const SignedDecision = z.object({
  payload: z.string().min(2).max(16_000),
  signature: z.string().regex(/^[A-Za-z0-9_-]{86}$/, 'signature: 64 bytes as 86 base64url characters'),
});
export type SignedDecision = z.infer<typeof SignedDecision>;
