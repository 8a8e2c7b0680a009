export type Verdict = 'pass' | 'fail';

export interface ConsensusInput {
  /** Annotation id (bigserial as text): breaks ties between labels stored in the same instant. */
  id: string;
  verdict: Verdict;
  createdAt: Date;
  /** Whether the reviewer wrote the step the agent should have taken. */
  hasExpected: boolean;
}

export interface Consensus<T> {
  verdict: Verdict;
  /** unanimous: every reviewer agreed; majority: most did; tie: as many passes as fails. */
  agreement: 'unanimous' | 'majority' | 'tie';
  /** Reviewers did not all agree (a tie included): the item deserves a second look. */
  disagreement: boolean;
  /** The label that speaks for the consensus (its category, expectation and comment). */
  representative: T;
}

const newerFirst = (a: ConsensusInput, b: ConsensusInput) =>
  b.createdAt.getTime() - a.createdAt.getTime() || Number(BigInt(b.id) - BigInt(a.id));

/**
 * The majority verdict of an item's labels. A tie counts as `fail`: a trace half the
 * reviewers call broken is not a safe positive example. Among the labels with that
 * verdict, one with a written expectation speaks for the item (a correction is worth more
 * than a bare verdict), the newest first.
 */
export function consensus<T extends ConsensusInput>(labels: readonly T[]): Consensus<T> | null {
  if (labels.length === 0) return null;
  const passes = labels.filter((l) => l.verdict === 'pass').length;
  const fails = labels.length - passes;
  const verdict: Verdict = passes > fails ? 'pass' : 'fail';
  const agreement = passes === fails ? 'tie' : passes === 0 || fails === 0 ? 'unanimous' : 'majority';
  const candidates = labels
    .filter((l) => l.verdict === verdict)
    .sort((a, b) => Number(b.hasExpected) - Number(a.hasExpected) || newerFirst(a, b));
  return { verdict, agreement, disagreement: agreement !== 'unanimous', representative: candidates[0]! };
}
