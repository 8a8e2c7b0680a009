import { RANDOM, selectSampleFromGroups } from '../traces/sample-selection.js';
import { compileRedactor, addCounts } from '../traces/pii-redaction.js';
import { CandidateReader } from '../traces/store/sample-candidate-reader.js';
import { insertSamples } from '../traces/store/sample-repository.js';
import { countWindow, sampledContent } from '../traces/store/trace-reader.js';
import { agentConfig } from '../registry/store/agent-repository.js';
import type { SamplingPolicy } from '../schemas/sampling-policy.js';
import type { ActivityDeps } from './activity-deps.js';
import { withForcedTraces } from '../traces/forced-samples.js';
import { driftedTracesOfCycle } from '../evaluation/store/drift-repository.js';
import { onlineFailuresToSample } from '../evaluation/store/online-evaluation-repository.js';

export interface SampleInput {
  cycleId: string;
  agent: string;
  windowStart: string;
  windowEnd: string;
  /** Overrides of the agent's policy for this cycle; absent = the agent's. */
  rate?: number | undefined;
  maxSample?: number | undefined;
  seed: number;
}

export interface SampleResult {
  sampled: number;
  negative: number;
  random: number;
  /** Traces in the window: exact up to EXACT_COUNT_LIMIT, the planner's estimate above. */
  inWindow: number;
  /** Optional for results recorded before estimates existed. */
  inWindowExact?: boolean;
  byReason: Record<string, number>;
  skipped: { exactDuplicate: number; nearDuplicate: number; userCap: number };
  redactions: Record<string, number>;
}

export function createSampleActivities({ db }: Pick<ActivityDeps, 'db'>) {
  return {
    /**
     * Selects the cycle's traces by the agent's sampling policy, records why each was
     * chosen, and stores each one's PII-redacted copy: the raw trace never leaves the traces
     * table, and every later stage (judge, reviewers, datasets, optimizer) reads the copy.
     * Idempotent: a retry re-selects the same traces and skips stored ones.
     */
    async sampleTraces(args: SampleInput): Promise<SampleResult> {
      const config = await agentConfig(db, args.agent);
      const policy: SamplingPolicy = {
        ...config.sampling,
        ...(args.rate === undefined ? {} : { rate: args.rate }),
        ...(args.maxSample === undefined ? {} : { maxSample: args.maxSample }),
      };
      const redactor = compileRedactor(config.redaction);
      // The window's size is for the report; counting it runs beside the candidate reads.
      const reader = new CandidateReader(db, args, policy);
      const [inWindow, groups] = await Promise.all([countWindow(db, args), reader.initialGroups()]);
      const textOf = (id: string) => reader.texts.get(id);
      let result = selectSampleFromGroups(groups, policy, textOf);
      while (!result.done) {
        const { needText, needMore } = result;
        await Promise.all([
          reader.loadTexts(needText),
          ...needMore.map(async (group) => {
            groups.set(group, await reader.more(group, groups.get(group)?.size ?? 0));
          }),
        ]);
        result = selectSampleFromGroups(groups, policy, textOf);
      }
      const { skipped } = result.selection;
      // A drift alert's early cycle samples the drifted traces at 100 %, and every cycle the
      // live traces online evaluation failed, so reviewers can confirm them into the
      // regression suite. Both are empty unless drift alerts or online evaluation are on.
      const [drifted, onlineFailures] = await Promise.all([
        driftedTracesOfCycle(db, args.cycleId),
        onlineFailuresToSample(db, {
          agent: args.agent,
          cycleId: args.cycleId,
          from: new Date(args.windowStart),
          to: new Date(args.windowEnd),
          limit: config.online.failuresPerCycle,
        }),
      ]);
      const picked = withForcedTraces(result.selection.picked, [
        ...drifted.map((traceId) => ({ traceId, reason: 'drift' })),
        ...onlineFailures.map((traceId) => ({ traceId, reason: 'online_failure' })),
      ]);

      let redactions: Record<string, number> = {};
      for (let i = 0; i < picked.length; i += 200) {
        const batch = picked.slice(i, i + 200);
        const rows = await sampledContent(
          db,
          args,
          batch.map((p) => p.traceId),
        );
        const byId = new Map(rows.map((r) => [r.id, r]));
        const values = batch.flatMap((p) => {
          const row = byId.get(p.traceId);
          if (!row) return [];
          const { id: _id, ...visible } = row;
          const { value, counts } = redactor.redactValue(visible);
          redactions = addCounts(redactions, counts);
          return [
            {
              cycle_id: args.cycleId,
              trace_id: p.traceId,
              reason: p.reason,
              reasons: p.reasons,
              redacted: JSON.stringify(value),
              redactions: JSON.stringify(counts),
            },
          ];
        });
        await insertSamples(db, values);
      }
      const byReason: Record<string, number> = {};
      for (const p of picked) byReason[p.reason] = (byReason[p.reason] ?? 0) + 1;
      return {
        sampled: picked.length,
        negative: byReason['negative_feedback'] ?? 0,
        random: byReason[RANDOM] ?? 0,
        inWindow: inWindow.count,
        inWindowExact: inWindow.exact,
        byReason,
        skipped,
        redactions,
      };
    },
  };
}
