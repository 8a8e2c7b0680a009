import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApprovalRules } from '../../workflows/approval-rules.js';

const waiting = (policy?: { approvers?: string[]; requiredApprovals?: number }) => {
  const rules = new ApprovalRules('cycle-support-2026-01-05', 'support');
  if (policy)
    rules.policy = { approvers: policy.approvers ?? [], requiredApprovals: policy.requiredApprovals ?? 1 };
  return rules;
};
const approve = (rules: ApprovalRules, approver: string, comment: string | null = null) => {
  rules.check('awaiting_approval', approver);
  rules.add({ approver, decision: 'approved', comment });
  rules.recorded();
};

describe('approval rules', () => {
  it('refuses an answer while the cycle is not waiting for approval', () => {
    assert.throws(
      () => waiting().check('gating', 'ana'),
      /^Error: Cycle cycle-support-2026-01-05 is not waiting for approval \(stage: gating\)\.$/,
    );
  });

  it('refuses an answer without an approver', () => {
    assert.throws(
      () => waiting().check('awaiting_approval', '  '),
      /An approver is required: pass --approver <name>\./,
    );
    assert.throws(() => waiting().check('awaiting_approval', undefined), /An approver is required/);
  });

  it("refuses a person who is not among the agent's approvers, comparing names case-insensitively", () => {
    const rules = waiting({ approvers: ['Ana', 'Ben'], requiredApprovals: 2 });
    assert.throws(
      () => rules.check('awaiting_approval', 'eve'),
      /^Error: eve may not approve releases of support; the agent's approvers are Ana, Ben\.$/,
    );
    assert.doesNotThrow(() => rules.check('awaiting_approval', 'ana'));
  });

  it('lets anyone named approve when the policy lists no approvers', () => {
    assert.doesNotThrow(() => waiting({ approvers: [] }).check('awaiting_approval', 'anyone'));
  });

  it('refuses a second answer from the same person, whatever the case of the name', () => {
    const rules = waiting({ requiredApprovals: 2 });
    approve(rules, 'Ana');
    assert.throws(
      () => rules.check('awaiting_approval', 'ana'),
      /^Error: ana already approved this release; ask another approver\.$/,
    );
  });

  it('refuses an answer after the release was approved', () => {
    const rules = waiting();
    approve(rules, 'ana');
    assert.throws(
      () => rules.check('awaiting_approval', 'ben'),
      /^Error: Cycle cycle-support-2026-01-05 was already approved by ana\.$/,
    );
  });

  it('refuses an answer after a rejection, which ends the decision at once', () => {
    const rules = waiting({ requiredApprovals: 3 });
    rules.add({ approver: 'ben', decision: 'rejected', comment: 'too risky' });
    rules.recorded();
    assert.ok(rules.decided());
    assert.throws(
      () => rules.check('awaiting_approval', 'ana'),
      /^Error: Cycle cycle-support-2026-01-05 was already rejected by ben\.$/,
    );
    assert.deepEqual(rules.decide(true, 60), { decision: 'rejected', by: 'ben', comment: 'too risky' });
    assert.deepEqual(rules.progress(), {
      decision: 'rejected',
      by: 'ben',
      reason: 'too risky',
      approvers: [],
      required: 3,
    });
  });

  it('counts distinct approvers against the N-person rule: pending until the Nth approval', () => {
    const rules = waiting({ approvers: ['ana', 'ben', 'cy'], requiredApprovals: 2 });
    approve(rules, 'ana', 'looks good');
    assert.equal(rules.decided(), false);
    assert.deepEqual(rules.reply({ approver: 'ana', decision: 'approved', comment: null }), {
      decision: 'pending',
      decidedBy: 'ana',
      approvals: 1,
      required: 2,
    });
    approve(rules, 'ben');
    assert.equal(rules.decided(), true);
    assert.deepEqual(rules.reply({ approver: 'ben', decision: 'approved', comment: null }), {
      decision: 'approved',
      decidedBy: 'ana, ben',
      approvals: 2,
      required: 2,
    });
    assert.deepEqual(rules.decide(true, 60), { decision: 'approved', by: 'ana, ben', comment: 'looks good' });
  });

  it('waits for the audit row of the deciding answer before the decision is settled', () => {
    const rules = waiting();
    rules.add({ approver: 'ana', decision: 'approved', comment: null });
    assert.equal(rules.decided(), true);
    assert.equal(rules.settled(), false);
    rules.recorded();
    assert.equal(rules.settled(), true);
  });

  it('expires at the deadline with the approvals counted so far', () => {
    const rules = waiting({ requiredApprovals: 3 });
    approve(rules, 'ana');
    const decision = rules.decide(false, 3600);
    assert.deepEqual(decision, {
      decision: 'expired',
      by: 'deadline',
      comment: '1/3 approvals within 3600s',
    });
    assert.deepEqual(rules.outcome(decision), {
      decision: 'expired',
      by: 'deadline',
      reason: '1/3 approvals within 3600s',
      approvers: ['ana'],
      required: 3,
    });
  });

  it('needs one approval from anyone until the policy is read', () => {
    const rules = waiting();
    assert.equal(rules.required, 1);
    approve(rules, 'ana');
    assert.equal(rules.decided(), true);
  });
});
