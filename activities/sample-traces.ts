import { sampleTraces } from '../core/trace-sampling.js';
import type { ActivityDeps } from './activity-deps.js';

export interface SampleInput {
  cycleId: string;
  agent: string;
  windowStart: string;
  windowEnd: string;
  rate: number;
  seed: number;
  maxSample: number;
}

export function createSampleActivities({ db }: ActivityDeps) {
  return {
    /** Selects the cycle's traces and records why each was chosen; returns counts only. */
    async sampleTraces(
      args: SampleInput,
    ): Promise<{ sampled: number; negative: number; random: number; inWindow: number }> {
      const candidates = await db
        .selectFrom('traces')
        .select(['id', 'feedback'])
        .where('agent_id', '=', args.agent)
        .where('started_at', '>=', new Date(args.windowStart))
        .where('started_at', '<', new Date(args.windowEnd))
        .execute();
      const picked = sampleTraces(candidates, {
        rate: args.rate,
        seed: args.seed,
        maxSample: args.maxSample,
      });
      if (picked.length > 0) {
        await db
          .insertInto('samples')
          .values(picked.map((p) => ({ cycle_id: args.cycleId, trace_id: p.traceId, reason: p.reason })))
          .onConflict((oc) => oc.columns(['cycle_id', 'trace_id']).doNothing())
          .execute();
      }
      return {
        sampled: picked.length,
        negative: picked.filter((p) => p.reason === 'negative_feedback').length,
        random: picked.filter((p) => p.reason === 'random').length,
        inWindow: candidates.length,
      };
    },
  };
}
