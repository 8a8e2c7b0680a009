import { ApplicationFailure, workflowInfo } from '@temporalio/workflow';
import { DecisionRejected, readDecision, verifyDecision } from '../release/decision-signature.js';
import type { Decision, DecisionAction, DecisionArgs } from '../schemas/signed-decision.js';
import { FailureType } from '../schemas/failure-types.js';
import { decisionKeyring } from './decision-keys.js';

/** A decision as a handler acts on it. */
export interface AcceptedDecision<A extends DecisionAction> {
  /** The person's id: what approver policies and the N-person rule compare. */
  person: string;
  /** How audit rows name them: `user:<id>` for a signed decision. */
  actor: string;
  args: DecisionArgs<A>;
  /** Which key signed it and its nonce, for the audit row; null for an unsigned (replayed) one. */
  signature: { kid: string; nonce: string; issuedAt: string } | null;
}

/**
 * The signed human decisions one workflow accepts. Validators call `verify`: the signature
 * against the keyring baked into this worker's bundle, the workflow, the action, workflow
 * time, and a nonce not used before here. Validators do not run on replay, so depending on
 * the worker's keys and clock there is safe; handlers call `accept`, which depends only on the
 * Update's argument and records its nonce.
 */
export class SignedDecisions {
  private readonly nonces = new Set<string>();

  verify<A extends DecisionAction>(raw: unknown, action: A): AcceptedDecision<A> {
    const d = verifyDecision(raw, decisionKeyring(), {
      workflowId: workflowInfo().workflowId,
      action,
      // In workflow code Date.now() is the workflow task's time, not the host clock.
      // eslint-disable-next-line no-restricted-properties
      now: Date.now(),
    });
    if (this.nonces.has(d.nonce))
      throw new DecisionRejected(
        `This signed ${action} was already used (nonce ${d.nonce}); a signed decision applies once. Decide again.`,
      );
    return accepted(d);
  }

  /**
   * The decision a validated Update carries. `unsigned` reads the argument of Updates
   * accepted before decisions were signed, which only replayed histories still contain.
   */
  accept<A extends DecisionAction>(
    raw: unknown,
    action: A,
    unsigned: (raw: unknown) => { person: string; args: DecisionArgs<A> },
  ): AcceptedDecision<A> {
    try {
      const d = readDecision(raw, action);
      if (!d) {
        const old = unsigned(raw);
        return { ...old, actor: old.person, signature: null };
      }
      this.nonces.add(d.nonce);
      return accepted(d);
    } catch (error) {
      // Unreachable past a validator; fails this Update only, not the workflow task.
      throw ApplicationFailure.nonRetryable(
        error instanceof Error ? error.message : String(error),
        FailureType.InvalidInput,
      );
    }
  }
}

function accepted<A extends DecisionAction>(d: Decision<A>): AcceptedDecision<A> {
  return {
    person: d.principal.id,
    // As principalLabel names a user.
    actor: `user:${d.principal.id}`,
    args: d.args,
    signature: { kid: d.kid, nonce: d.nonce, issuedAt: d.issuedAt },
  };
}
