import type { ApprovalResult } from '../schemas/approval.js';
import type { ApprovalPolicy } from '../schemas/approval-policy.js';
import type { CycleStage } from '../schemas/cycle-input.js';
import type { CycleStatus } from '../schemas/cycle-status.js';

export interface ApprovalAnswer {
  /** The person's id: what the agent's approver list and the N-person rule compare. */
  approver: string;
  /**
   * How audit rows name them: `user:<id>` from a verified signed decision. Answers replayed
   * from histories recorded before decisions were signed have none; their approver stands.
   */
  actor?: string;
  decision: 'approved' | 'rejected';
  comment: string | null;
}

const actorOf = (a: ApprovalAnswer) => a.actor ?? a.approver;

/** What the cycle records once the wait for approvers ends. */
export interface ReleaseDecision {
  decision: 'approved' | 'rejected' | 'expired';
  /** Who decided, as the audit log names them (`user:alice, user:bob`), or `deadline`. */
  by: string;
  comment: string | null;
}

type ApprovalStatus = NonNullable<CycleStatus['approval']>;

/**
 * A cycle's approvers and the agent's N-person rule: who may answer, when an answer is
 * refused, and what the answers so far decide. Plain state without Temporal, so the rules
 * are tested directly; the workflow calls `check` from its Update validators (a refused
 * call leaves no history) and records each accepted answer before replying.
 */
export class ApprovalRules {
  /** The agent's policy, fixed at the start of the cycle; until then one approval from anyone. */
  policy: ApprovalPolicy | undefined;
  /** Each person's answer, in arrival order; the N-person rule counts distinct approvers. */
  readonly answers: ApprovalAnswer[] = [];
  /** Answers whose audit row is still being written: the decision waits for them. */
  private recording = 0;

  constructor(
    private readonly cycleId: string,
    private readonly agent: string,
  ) {}

  get required(): number {
    return this.policy?.requiredApprovals ?? 1;
  }

  approvers(): string[] {
    return this.answers.filter((a) => a.decision === 'approved').map((a) => a.approver);
  }

  rejection(): ApprovalAnswer | undefined {
    return this.answers.find((a) => a.decision === 'rejected');
  }

  /** One rejection ends it; otherwise enough distinct approvers. */
  decided(): boolean {
    return this.rejection() !== undefined || this.approvers().length >= this.required;
  }

  /** Decided, and every answer's audit row written: the release decision may follow. */
  settled(): boolean {
    return this.decided() && this.recording === 0;
  }

  /** Throws, with what to do, when `approver` (a verified person's id) may not answer now. */
  check(stage: CycleStage, approver: string | undefined): void {
    if (stage !== 'awaiting_approval') {
      throw new Error(`Cycle ${this.cycleId} is not waiting for approval (stage: ${stage}).`);
    }
    if (this.decided()) {
      const r = this.rejection();
      throw new Error(
        r
          ? `Cycle ${this.cycleId} was already rejected by ${r.approver}.`
          : `Cycle ${this.cycleId} was already approved by ${this.approvers().join(', ')}.`,
      );
    }
    const who = approver?.trim();
    if (!who) throw new Error('An approver is required: pass --approver <name>.');
    const allowed = this.policy?.approvers ?? [];
    if (allowed.length > 0 && !allowed.some((a) => a.toLowerCase() === who.toLowerCase())) {
      throw new Error(
        `${who} may not approve releases of ${this.agent}; the agent's approvers are ${allowed.join(', ')}.`,
      );
    }
    const earlier = this.answers.find((a) => a.approver.toLowerCase() === who.toLowerCase());
    if (earlier) throw new Error(`${who} already ${earlier.decision} this release; ask another approver.`);
  }

  /** Counts an answer at once; `recorded` says its audit row exists. */
  add(answer: ApprovalAnswer): void {
    this.answers.push(answer);
    this.recording++;
  }

  recorded(): void {
    this.recording--;
  }

  /** The approval so far, for the status query. */
  progress(): ApprovalStatus & { decision: ApprovalResult['decision'] } {
    const ok = this.approvers();
    const rejected = this.rejection();
    return {
      decision: rejected ? 'rejected' : ok.length >= this.required ? 'approved' : 'pending',
      by: rejected?.approver ?? ok.join(', '),
      ...(rejected?.comment ? { reason: rejected.comment } : {}),
      approvers: ok,
      required: this.required,
    };
  }

  /** The Update's answer to the person who just answered. */
  reply(answer: ApprovalAnswer): ApprovalResult {
    const ok = this.approvers();
    return {
      decision: this.progress().decision,
      decidedBy: answer.decision === 'rejected' ? answer.approver : ok.join(', '),
      approvals: ok.length,
      required: this.required,
    };
  }

  /** The decision once the wait ended: a rejection wins, then approval in time, else expiry. */
  decide(inTime: boolean, deadlineSeconds: number): ReleaseDecision {
    const rejected = this.rejection();
    if (rejected) return { decision: 'rejected', by: actorOf(rejected), comment: rejected.comment };
    if (inTime)
      return {
        decision: 'approved',
        by: this.answers
          .filter((a) => a.decision === 'approved')
          .map(actorOf)
          .join(', '),
        comment:
          this.answers
            .map((a) => a.comment)
            .filter(Boolean)
            .join(' / ') || null,
      };
    return {
      decision: 'expired',
      by: 'deadline',
      comment: `${this.approvers().length}/${this.required} approvals within ${deadlineSeconds}s`,
    };
  }

  /** The status query's view of a final decision. */
  outcome(decision: ReleaseDecision): ApprovalStatus {
    return {
      decision: decision.decision,
      by: decision.by,
      ...(decision.comment ? { reason: decision.comment } : {}),
      approvers: this.approvers(),
      required: this.required,
    };
  }
}
