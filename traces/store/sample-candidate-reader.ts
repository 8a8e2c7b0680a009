import { sql, type RawBuilder } from 'kysely';
import {
  byPosition,
  groupQuotas,
  RANDOM,
  randomCountCap,
  strataOrder,
  type CandidateGroup,
  type SampleCandidate,
} from '../sample-selection.js';
import { positionOnArc, randomArc } from '../random-arc.js';
import { userText } from '../user-text.js';
import type { Db } from '../../db/connection.js';
import type { SamplingPolicy } from '../../schemas/sampling-policy.js';
import { windowCondition, type TraceWindow } from './trace-reader.js';

function stratumSql(name: string, policy: SamplingPolicy): RawBuilder<boolean> {
  if (name === 'negative_feedback') return sql<boolean>`coalesce(feedback < 0, false)`;
  if (name === 'escalation') return sql<boolean>`coalesce(outcome = 'escalated', false)`;
  if (name === 'error') return sql<boolean>`(status = 'error' or coalesce(outcome = 'error', false))`;
  if (!policy.strata.custom.some((s) => s.name === name)) throw new Error(`No stratum named ${name}.`);
  // Custom predicates were evaluated when the trace was written (or given feedback).
  return sql<boolean>`(${name} = any(strata))`;
}

/**
 * The condition of the partial indexes on traces (migrations 0003 and 0005), repeated word
 * for word so the planner can use them: every trace some stratum wants satisfies it.
 */
const IN_SOME_STRATUM = sql<boolean>`(feedback < 0 or status = 'error' or outcome in ('escalated', 'error') or strata <> '{}')`;

interface CandidateRow {
  id: string;
  user_id: string | null;
  sample_key: number;
  [stratum: `s${number}`]: boolean;
}

/** A range of sample keys, read lowest first: the random arc wraps around 1 into two. */
interface KeyRange {
  from: number;
  to: number;
}

export interface WindowArgs extends TraceWindow {
  seed: number;
  /** The sampling cycle: its own earlier (retried) picks stay candidates. */
  cycleId: string;
}

/**
 * Reads a window's sampling candidates group by group, lowest `u` first, and only as far
 * as the selection walks: group sizes come from counts (the strata through their partial
 * index, the random share only up to `maxSample + 1`), and each group's candidates from an
 * ordered range scan on (agent_id, sample_key) that stops at a LIMIT. A week of millions of
 * traces is never read row by row, and the outcome equals reading every candidate.
 */
export class CandidateReader {
  private readonly order: string[];
  private readonly flags: RawBuilder<unknown>[];
  private readonly anyFlag: RawBuilder<boolean>;
  private readonly window: RawBuilder<boolean>;
  private readonly arc: { start: number; end: number };
  private readonly limits = new Map<string, number>();
  /** Normalized user text of every candidate read, when the policy deduplicates. */
  readonly texts = new Map<string, string>();

  constructor(
    private readonly db: Db,
    args: WindowArgs,
    private readonly policy: SamplingPolicy,
  ) {
    this.order = strataOrder(policy);
    const conditions = this.order.map((name) => stratumSql(name, policy));
    this.flags = conditions.map((c, i) => sql`${c} as ${sql.ref(`s${i}`)}`);
    this.anyFlag =
      conditions.length > 0 ? sql<boolean>`(${sql.join(conditions, sql` or `)})` : sql<boolean>`false`;
    // Trace ids are unique across agents, so any other cycle's sample row is this agent's.
    this.window = policy.skipSampledBefore
      ? sql<boolean>`${windowCondition(args)} and not exists (select 1 from samples s where s.trace_id = traces.id and s.cycle_id <> ${args.cycleId})`
      : windowCondition(args);
    this.arc = randomArc(args.seed, policy.rate);
  }

  private get needsText(): boolean {
    return this.policy.dedup.exact || this.policy.dedup.near;
  }

  /** The stratum group `i` holds the traces whose first matching stratum is `i`. */
  private groupCondition(group: string): RawBuilder<boolean> {
    if (group === RANDOM) return sql<boolean>`not ${this.anyFlag}`;
    const i = this.order.indexOf(group);
    const own = stratumSql(group, this.policy);
    const earlier = this.order.slice(0, i).map((name) => stratumSql(name, this.policy));
    return earlier.length === 0
      ? sql<boolean>`${IN_SOME_STRATUM} and ${own}`
      : sql<boolean>`${IN_SOME_STRATUM} and ${own} and not (${sql.join(earlier, sql` or `)})`;
  }

  /** Sample-key ranges of a group in walk order: strata start at the arc, random stays on it. */
  private ranges(group: string): KeyRange[] {
    const { start, end } = this.arc;
    if (group !== RANDOM)
      return [
        { from: start, to: 1 },
        { from: 0, to: start },
      ];
    if (this.policy.rate <= 0) return [];
    return end <= 1
      ? [{ from: start, to: end }]
      : [
          { from: start, to: 1 },
          { from: 0, to: end - 1 },
        ];
  }

  private rangeSql({ from, to }: KeyRange): RawBuilder<boolean> {
    return to >= 1
      ? sql<boolean>`sample_key >= ${from}`
      : sql<boolean>`sample_key >= ${from} and sample_key < ${to}`;
  }

  /**
   * Each group's size: stratum groups counted exactly, the random one only as far as the
   * quotas can tell a difference (see randomCountCap), and reported as `maxSample + 1`
   * beyond that, which gives the same quotas.
   */
  async sizes(): Promise<Map<string, number>> {
    const sizes = new Map<string, number>([...this.order, RANDOM].map((g) => [g, 0]));
    if (this.order.length > 0) {
      const strata = await sql<{ g: number; n: number }>`
        select case ${sql.join(
          this.order.map((name, i) => sql`when ${stratumSql(name, this.policy)} then ${sql.lit(i)}`),
          sql` `,
        )} end as g, count(*)::int as n
        from traces where ${this.window} and ${IN_SOME_STRATUM}
        group by 1`.execute(this.db);
      for (const { g, n } of strata.rows) if (g !== null) sizes.set(this.order[g]!, n);
    }
    const ranges = this.ranges(RANDOM);
    if (ranges.length === 0) return sizes;
    // Each row the random count reads is a heap fetch (its stratum flags are not in the
    // index it walks): counting to 101 instead of 1,001 is most of a cold sample's time.
    const cap = randomCountCap(sizes, this.policy);
    const random = await sql<{ n: number }>`select count(*)::int as n from (${sql.join(
      ranges.map(
        (r) =>
          sql`(select 1 from traces where ${this.window} and ${this.rangeSql(r)} and not ${this.anyFlag} limit ${cap})`,
      ),
      sql` union all `,
    )}) arc`.execute(this.db);
    const n = random.rows[0]?.n ?? 0;
    sizes.set(RANDOM, n >= cap ? this.policy.maxSample + 1 : n);
    return sizes;
  }

  /** Every group's first candidates: enough to fill its quota with some room for skips. */
  async initialGroups(): Promise<Map<string, CandidateGroup>> {
    const sizes = await this.sizes();
    const quotas = groupQuotas(sizes, this.policy);
    const groups = await Promise.all(
      [...sizes].map(async ([group, size]): Promise<[string, CandidateGroup]> => {
        const quota = quotas.get(group) ?? 0;
        if (quota === 0) return [group, { candidates: [], size, complete: size === 0 }];
        // Dedup and the per-user cap skip about a quarter of the candidates on real traffic;
        // a margin of half the quota spares most sequential `more` round trips.
        return [group, await this.read(group, size, quota + Math.max(32, Math.ceil(quota / 2)))];
      }),
    );
    return new Map(groups);
  }

  /** The group read again with a longer prefix, after the walk ran past the end of it. */
  async more(group: string, size: number): Promise<CandidateGroup> {
    const limit = this.limits.get(group) ?? 0;
    return this.read(group, size, Math.max(2 * limit, limit + 64));
  }

  private async read(group: string, size: number, limit: number): Promise<CandidateGroup> {
    this.limits.set(group, limit);
    // No text here: for a stratum group these columns are all in the partial strata index
    // (migration 0020), so the read is index-only whichever plan the planner picks, and the
    // texts are fetched below for the rows returned only. With `input` in the list, a
    // misjudged stratum size made it fetch and sort every row of the stratum from the heap.
    const columns = sql.join([sql`id`, sql`user_id`, sql`sample_key`, ...this.flags]);
    const ranges = this.ranges(group);
    const condition = this.groupCondition(group);
    // A query per range, each stopping at the limit: the ranges are consecutive stretches
    // of `u`, so a later range's rows count only once every earlier range ran out.
    const parts = await Promise.all(
      ranges.map((r) =>
        sql<CandidateRow>`select ${columns} from traces
          where ${this.window} and ${condition} and ${this.rangeSql(r)}
          order by sample_key limit ${limit}`.execute(this.db),
      ),
    );
    const rows: CandidateRow[] = [];
    let complete = true;
    for (const part of parts) {
      rows.push(...part.rows);
      // A full range may hold more, and the ranges after it start past what it did not return.
      if (part.rows.length >= limit) {
        complete = false;
        break;
      }
    }
    const candidates = rows.flatMap((r): SampleCandidate[] => {
      const u = positionOnArc(r.sample_key, this.arc.start);
      const random = u < this.policy.rate;
      // Keys at an arc's rounding edge can fall outside the rate once `u` is computed.
      if (group === RANDOM && !random) return [];
      return [{ id: r.id, userId: r.user_id, u, strata: this.order.filter((_, i) => r[`s${i}`]), random }];
    });
    if (this.needsText) await this.loadTexts(candidates.map((c) => c.id).filter((id) => !this.texts.has(id)));
    return { candidates: candidates.sort(byPosition), size, complete };
  }

  /** Normalized texts of candidates whose text was not read with them. */
  async loadTexts(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    const rows = await sql<{ id: string; input: unknown }>`
      select id, input from traces where ${this.window} and id = any(${ids})`.execute(this.db);
    for (const r of rows.rows) this.texts.set(r.id, userText(r.input));
    for (const id of ids) if (!this.texts.has(id)) this.texts.set(id, '');
  }
}
