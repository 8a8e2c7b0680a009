import { nextFloat, seedPrng, type PrngState } from '../optimizers/prng.js';

/**
 * What bench:faults does to a running stack, and when: a seeded sequence of fault kinds and
 * the pauses between them, so a run with the same seed meets the same faults in the same
 * order (when each lands in the cycles still depends on how fast the machine is).
 */

export const FAULT_KINDS = [
  'worker-kill',
  'api-kill',
  'postgres-restart',
  'temporal-restart',
  'pg-terminate',
  'llm-burst',
] as const;
export type FaultKindName = (typeof FAULT_KINDS)[number];

/**
 * Relative frequencies. A killed worker's running activity waits out its heartbeat or
 * start-to-close timeout (up to two minutes) before it is retried elsewhere, and a restarted
 * server takes seconds to come back, so those are rarer than the cheap faults.
 */
export const DEFAULT_WEIGHTS: Record<FaultKindName, number> = {
  'worker-kill': 12,
  'api-kill': 14,
  'postgres-restart': 12,
  'temporal-restart': 12,
  'pg-terminate': 22,
  'llm-burst': 28,
};

/** Model faults a burst is made of: how the simulator answers the next `count` calls of a role. */
export interface LlmBurst {
  role: 'agent' | 'judge' | 'teacher' | 'embedder';
  kind: '429' | '500' | '503' | 'slow';
  count: number;
}

export interface PlannedFault {
  kind: FaultKindName;
  /** Pause before this fault, after the previous one has been recovered from. */
  gapMs: number;
  /** A number in [0, 1) to pick the victim among the live replicas. */
  pick: number;
  burst?: LlmBurst;
}

export class FaultSchedule {
  private readonly state: PrngState;
  private readonly total: number;

  constructor(
    seed: number,
    private readonly gapMs: { min: number; max: number },
    private readonly weights: Record<FaultKindName, number> = DEFAULT_WEIGHTS,
  ) {
    this.state = seedPrng(seed);
    this.total = FAULT_KINDS.reduce((s, k) => s + weights[k], 0);
  }

  next(): PlannedFault {
    const u = () => nextFloat(this.state);
    const gapMs = Math.round(this.gapMs.min + u() * (this.gapMs.max - this.gapMs.min));
    let r = u() * this.total;
    let kind: FaultKindName = FAULT_KINDS[FAULT_KINDS.length - 1]!;
    for (const k of FAULT_KINDS) {
      if (r < this.weights[k]) {
        kind = k;
        break;
      }
      r -= this.weights[k];
    }
    const pick = u();
    if (kind !== 'llm-burst') return { kind, gapMs, pick };
    const roles = ['agent', 'judge', 'teacher', 'embedder'] as const;
    const kinds = ['429', '500', '503', 'slow'] as const;
    const role = roles[Math.floor(u() * roles.length)]!;
    const faultKind = kinds[Math.floor(u() * kinds.length)]!;
    // A 5xx burst is at most two calls long: the client's own retries (three attempts) then
    // always reach the model. A longer one makes the client resample at a raised temperature
    // (openai-llm-client.ts), a different request whose answer differs from the twin's by
    // design, so it would test that policy rather than fault tolerance.
    const count =
      faultKind === '500' || faultKind === '503'
        ? 1 + Math.floor(u() * 2)
        : faultKind === 'slow'
          ? 2 + Math.floor(u() * 3)
          : 3 + Math.floor(u() * 6);
    return { kind, gapMs, pick, burst: { role, kind: faultKind, count } };
  }
}
