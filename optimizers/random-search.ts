import type { OptimizerOutcome, OptimizerRequest, OptimizerResult } from './optimizer.js';
import { nextInt, seedPrng, type PrngState } from './prng.js';

/**
 * Random-search baseline: the teacher proposes a pool of rewrites of the baseline, and
 * candidates are drawn uniformly without replacement and scored on the train split until
 * the rollout budget or the pool runs out. It is the control every smarter optimizer
 * must beat. The state is plain JSON: checkpoint it, continue-as-new, resume exactly.
 */
export interface RandomSearchState {
  kind: 'random-search';
  prng: PrngState;
  baselineCandidateId: string;
  proposals: number;
  maxRollouts: number;
  phase: 'baseline' | 'propose' | 'search' | 'done';
  unevaluated: string[];
  scores: { candidateId: string; score: number }[];
  rolloutsUsed: number;
  /** Rollouts one evaluation costs, learned from the baseline evaluation. */
  evalCost: number;
  pending: OptimizerRequest | null;
  doneReason: string | null;
}

export interface RandomSearchConfig {
  seed: number;
  baselineCandidateId: string;
  proposals: number;
  maxRollouts: number;
}

export function initRandomSearch(config: RandomSearchConfig): RandomSearchState {
  return {
    kind: 'random-search',
    prng: seedPrng(config.seed),
    baselineCandidateId: config.baselineCandidateId,
    proposals: config.proposals,
    maxRollouts: config.maxRollouts,
    phase: 'baseline',
    unevaluated: [],
    scores: [],
    rolloutsUsed: 0,
    evalCost: 0,
    pending: null,
    doneReason: null,
  };
}

function finish(state: RandomSearchState, reason: string): OptimizerRequest {
  state.phase = 'done';
  state.doneReason = reason;
  state.pending = { kind: 'done', reason };
  return state.pending;
}

/** Returns the next request; asking again before `tell` returns the same request. */
export function ask(state: RandomSearchState): OptimizerRequest {
  if (state.pending) return state.pending;
  switch (state.phase) {
    case 'baseline':
      state.pending = { kind: 'evaluate', candidateId: state.baselineCandidateId };
      return state.pending;
    case 'propose':
      state.pending = {
        kind: 'propose',
        count: state.proposals,
        parentCandidateId: state.baselineCandidateId,
      };
      return state.pending;
    case 'search': {
      if (state.unevaluated.length === 0) return finish(state, 'every proposed candidate was evaluated');
      if (state.rolloutsUsed + state.evalCost > state.maxRollouts) {
        return finish(state, `rollout budget reached (${state.rolloutsUsed} of ${state.maxRollouts})`);
      }
      const index = nextInt(state.prng, state.unevaluated.length);
      const [candidateId] = state.unevaluated.splice(index, 1);
      state.pending = { kind: 'evaluate', candidateId: candidateId! };
      return state.pending;
    }
    case 'done':
      return finish(state, state.doneReason ?? 'done');
  }
}

export function tell(state: RandomSearchState, result: OptimizerResult): void {
  const pending = state.pending;
  if (!pending) throw new Error('tell() without a pending ask()');
  if (result.kind === 'proposed') {
    if (pending.kind !== 'propose') throw new Error(`expected a ${pending.kind} result, got proposals`);
    state.unevaluated.push(...result.candidateIds.filter((id) => id !== state.baselineCandidateId));
    state.phase = 'search';
  } else {
    if (pending.kind !== 'evaluate' || pending.candidateId !== result.candidateId) {
      throw new Error(`result for ${result.candidateId} does not answer the pending request`);
    }
    state.scores.push({ candidateId: result.candidateId, score: result.score });
    state.rolloutsUsed += result.rollouts;
    if (state.phase === 'baseline') {
      state.evalCost = result.rollouts;
      state.phase = 'propose';
    }
  }
  state.pending = null;
}

/** Best candidate so far; ties keep the earlier (the baseline wins ties, so no churn). */
export function outcome(state: RandomSearchState): OptimizerOutcome {
  const baseline = state.scores.find((s) => s.candidateId === state.baselineCandidateId);
  let best = baseline ?? state.scores[0] ?? { candidateId: state.baselineCandidateId, score: 0 };
  for (const s of state.scores) if (s.score > best.score) best = s;
  return {
    bestCandidateId: best.candidateId,
    bestScore: best.score,
    baselineScore: baseline?.score ?? 0,
    rolloutsUsed: state.rolloutsUsed,
    evaluations: state.scores.length,
  };
}
