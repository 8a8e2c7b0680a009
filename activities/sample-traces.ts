import { sql, type RawBuilder } from 'kysely';
import { RANDOM, selectFromGroups } from '../traces/sample-selection.js';
import { compileRedactor, addCounts } from '../traces/pii-redaction.js';
import { agentConfig } from '../registry/store/agent-repository.js';
import type { SamplingPolicy } from '../schemas/sampling-policy.js';
import type { Db } from '../db/connection.js';
import type { ActivityDeps } from './activity-deps.js';
import { CandidateReader } from './sample-candidates.js';

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

/**
 * Windows up to this many traces (by the planner's estimate) are counted exactly; larger
 * ones report the estimate, since an exact count of a busy week reads millions of index
 * entries and would cost more than the whole sample.
 */
export const EXACT_COUNT_LIMIT = 200_000;

/** How many traces the window holds: exact when small, the planner's estimate otherwise. */
async function countWindow(db: Db, window: RawBuilder<boolean>): Promise<{ count: number; exact: boolean }> {
  const plan = await sql<{ 'QUERY PLAN': [{ Plan: { 'Plan Rows': number } }] }>`
    explain (format json) select 1 from traces where ${window}`.execute(db);
  const estimate = Math.round(plan.rows[0]?.['QUERY PLAN'][0].Plan['Plan Rows'] ?? 0);
  if (estimate > EXACT_COUNT_LIMIT) return { count: estimate, exact: false };
  const rows = await sql<{
    count: number;
  }>`select count(*)::int as count from traces where ${window}`.execute(db);
  return { count: rows.rows[0]?.count ?? 0, exact: true };
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
      const window = sql<boolean>`agent_id = ${args.agent} and started_at >= ${new Date(args.windowStart)} and started_at < ${new Date(args.windowEnd)}`;
      // The window's size is for the report; counting it runs beside the candidate reads.
      const reader = new CandidateReader(db, args, policy);
      const [inWindow, groups] = await Promise.all([countWindow(db, window), reader.initialGroups()]);
      const textOf = (id: string) => reader.texts.get(id);
      let result = selectFromGroups(groups, policy, textOf);
      while (!result.done) {
        const { needText, needMore } = result;
        await Promise.all([
          reader.loadTexts(needText),
          ...needMore.map(async (group) => {
            groups.set(group, await reader.more(group, groups.get(group)?.size ?? 0));
          }),
        ]);
        result = selectFromGroups(groups, policy, textOf);
      }
      const { picked, skipped } = result.selection;

      let redactions: Record<string, number> = {};
      for (let i = 0; i < picked.length; i += 200) {
        const batch = picked.slice(i, i + 200);
        const rows = await db
          .selectFrom('traces')
          .select([
            'id',
            'input',
            'output',
            'expected',
            'expected_actions',
            'feedback_text',
            'spans',
            'attributes',
          ])
          .where('agent_id', '=', args.agent)
          .where('started_at', '>=', new Date(args.windowStart))
          .where('started_at', '<', new Date(args.windowEnd))
          .where(
            'id',
            'in',
            batch.map((p) => p.traceId),
          )
          .execute();
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
        if (values.length > 0) {
          await db
            .insertInto('samples')
            .values(values)
            .onConflict((oc) => oc.columns(['cycle_id', 'trace_id']).doNothing())
            .execute();
        }
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
