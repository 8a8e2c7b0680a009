import { unitInterval } from './stable-hash.js';

export interface SamplingCandidate {
  id: string;
  feedback: number | null;
}

export type SampleReason = 'negative_feedback' | 'random';

export interface SampledTrace {
  traceId: string;
  reason: SampleReason;
}

export interface SamplingPolicy {
  rate: number;
  seed: number;
  maxSample: number;
}

/**
 * Every negatively rated trace, plus a hash-based random share of the rest. Because the
 * hash of a trace id is fixed, a trace sampled at rate r is also sampled at any r' > r
 * (samples nest as the rate grows), and re-running a cycle selects the same traces.
 * When the cap binds, negative feedback wins, then the lowest hashes.
 */
export function sampleTraces(
  candidates: readonly SamplingCandidate[],
  policy: SamplingPolicy,
): SampledTrace[] {
  const negatives: SampledTrace[] = [];
  const random: { traceId: string; u: number }[] = [];
  for (const c of candidates) {
    if (c.feedback !== null && c.feedback < 0) {
      negatives.push({ traceId: c.id, reason: 'negative_feedback' });
      continue;
    }
    const u = unitInterval(c.id, policy.seed);
    if (u < policy.rate) random.push({ traceId: c.id, u });
  }
  negatives.sort((a, b) => a.traceId.localeCompare(b.traceId));
  random.sort((a, b) => a.u - b.u);
  const picked = negatives.slice(0, policy.maxSample);
  for (const r of random) {
    if (picked.length >= policy.maxSample) break;
    picked.push({ traceId: r.traceId, reason: 'random' });
  }
  return picked;
}
