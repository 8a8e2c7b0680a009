import { sql, type RawBuilder } from 'kysely';
import { unitInterval } from '../core/stable-hash.js';
import { RANDOM, selectSample, strataOrder, type SampleCandidate } from '../core/sample-selection.js';
import { compileRedactor, addCounts } from '../core/pii-redaction.js';
import { normalizeForDedup } from '../core/near-duplicates.js';
import { agentConfig } from '../db/agent-repository.js';
import type { SamplingPolicy } from '../schemas/sampling-policy.js';
import type { Db } from '../db/connection.js';
import type { ActivityDeps } from './activity-deps.js';

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
  inWindow: number;
  byReason: Record<string, number>;
  skipped: { exactDuplicate: number; nearDuplicate: number; userCap: number };
  redactions: Record<string, number>;
}

/**
 * Where the seeded random share starts on the [0, 1) circle of sample keys. Each seed
 * picks a different but fixed arc, so a cycle re-run selects the same traces and a larger
 * rate extends the arc (samples nest).
 */
export function randomArc(seed: number, rate: number): { start: number; end: number } {
  const start = unitInterval(`sampling-seed:${seed}`);
  return { start, end: start + rate };
}

function positionOnArc(sampleKey: number, start: number): number {
  const u = sampleKey - start;
  return u < 0 ? u + 1 : u;
}

function stratumSql(name: string, policy: SamplingPolicy): RawBuilder<boolean> {
  if (name === 'negative_feedback') return sql<boolean>`coalesce(feedback < 0, false)`;
  if (name === 'escalation') return sql<boolean>`coalesce(outcome = 'escalated', false)`;
  if (name === 'error') return sql<boolean>`(status = 'error' or coalesce(outcome = 'error', false))`;
  if (!policy.strata.custom.some((s) => s.name === name)) throw new Error(`No stratum named ${name}.`);
  // Custom predicates were evaluated when the trace was written (or given feedback).
  return sql<boolean>`(${name} = any(strata))`;
}

interface CandidateRow {
  id: string;
  user_id: string | null;
  sample_key: number;
  [stratum: `s${number}`]: boolean;
}

/** One scan of the window: every trace some stratum wants, plus the random arc. */
export async function loadCandidates(
  db: Db,
  args: { agent: string; windowStart: string; windowEnd: string; seed: number },
  policy: SamplingPolicy,
): Promise<SampleCandidate[]> {
  const order = strataOrder(policy);
  const flags = order.map((name, i) => sql`${stratumSql(name, policy)} as ${sql.ref(`s${i}`)}`);
  const arc = randomArc(args.seed, policy.rate);
  const inArc =
    policy.rate <= 0
      ? sql<boolean>`false`
      : arc.end <= 1
        ? sql<boolean>`(sample_key >= ${arc.start} and sample_key < ${arc.end})`
        : sql<boolean>`(sample_key >= ${arc.start} or sample_key < ${arc.end - 1})`;
  const select = sql`select id, user_id, sample_key${flags.length ? sql`, ${sql.join(flags)}` : sql``} from traces
    where agent_id = ${args.agent}
      and started_at >= ${new Date(args.windowStart)} and started_at < ${new Date(args.windowEnd)}`;
  // Two index-driven reads instead of one scan of the window: the rare always-sampled rows
  // through the partial index whose condition this repeats word for word, and the random
  // arc through (agent_id, sample_key). A week of millions of traces is never read whole.
  const [strata, random] = await Promise.all([
    sql<CandidateRow>`${select}
      and (feedback < 0 or status = 'error' or outcome in ('escalated', 'error') or strata <> '{}')`.execute(
      db,
    ),
    sql<CandidateRow>`${select} and ${inArc}`.execute(db),
  ]);
  const byId = new Map<string, CandidateRow>();
  for (const r of [...strata.rows, ...random.rows]) byId.set(r.id, r);
  return [...byId.values()].map((r) => {
    const u = positionOnArc(r.sample_key, arc.start);
    return {
      id: r.id,
      userId: r.user_id,
      u,
      strata: order.filter((_, i) => r[`s${i}`]),
      random: u < policy.rate,
    };
  });
}

function userText(input: unknown): string {
  const messages =
    (input as { messages?: { role?: string; content?: string | null }[] } | null)?.messages ?? [];
  return normalizeForDedup(
    messages
      .filter((m) => m.role === 'user')
      .map((m) => m.content ?? '')
      .join('\n'),
  );
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
      const [inWindowRows, candidates] = await Promise.all([
        sql<{ count: number }>`select count(*)::int as count from traces where ${window}`.execute(db),
        loadCandidates(db, args, policy),
      ]);
      const inWindow = inWindowRows.rows[0]?.count ?? 0;
      const texts = new Map<string, string>();
      let result = selectSample(candidates, policy, (id) => texts.get(id));
      while (!result.done) {
        const rows = await sql<{ id: string; input: unknown }>`
          select id, input from traces where ${window} and id = any(${result.needText})`.execute(db);
        for (const r of rows.rows) texts.set(r.id, userText(r.input));
        for (const id of result.needText) if (!texts.has(id)) texts.set(id, '');
        result = selectSample(candidates, policy, (id) => texts.get(id));
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
        inWindow,
        byReason,
        skipped,
        redactions,
      };
    },
  };
}
