import { sql, type RawBuilder } from 'kysely';
import type { Db } from '../../db/connection.js';
import { COACHING_TRACE_ATTRIBUTE } from '../../schemas/coaching.js';
import type { TraceCoachingFilter, TraceListFilter } from '../../schemas/trace-list-query.js';

/**
 * The trace list's reads. Guarantees, written once here:
 * - order is newest first by (started_at, id), both descending, so a page boundary is exact
 *   even when traces share a start time; the cursor carries the start to the microsecond
 *   (Postgres's precision), never a JS Date's millisecond;
 * - one agent's page reads the (agent_id, started_at) index backwards and stops at the
 *   limit; without an agent, each agent's newest matches are read the same way (a lateral
 *   join over the agents table) and merged, so no index on started_at alone is needed and
 *   ingest pays for none;
 * - the cluster filter starts from the cluster's members (a small set) and keeps the traces
 *   whose latest clustering put them in that cluster;
 * - the coaching filter reads the `flywheel.coaching.ids` attribute (`id@version` tags, a
 *   list or one string) with the operators of the partial GIN index of migration 0028; a
 *   coaching id matches every version it has had (its versions' tags, from coaching_versions);
 * - text search reads the string values of input and output (not the JSON keys, not the
 *   system prompt), so it scans the rows the other filters leave: narrow it with an agent
 *   and a time range.
 */

export interface TraceListRow {
  id: string;
  agent_id: string;
  started_at: Date;
  /** started_at to the microsecond, UTC ISO: what the cursor carries. */
  started_at_exact: string;
  ended_at: Date | null;
  status: string;
  outcome: string | null;
  feedback: number | null;
  feedback_text: string | null;
  prompt_name: string | null;
  prompt_version: number | null;
  model: string | null;
  session_id: string | null;
  user_id: string | null;
  latency_ms: number | null;
  cost_usd: number | null;
  input_tokens: number | null;
  output_tokens: number | null;
  input_preview: string | null;
  output_action: string | null;
  output_content: string | null;
  output_arguments: string | null;
}

/** Characters of the input and output kept in a list row; the detail view has the rest. */
const PREVIEW_CHARS = 300;

/**
 * The strings text search reads: of the input, every message but the system prompt (the same
 * in every trace of a prompt version, so a word from it would match them all) without the
 * role names; of the output, everything (the action, its arguments, the reply).
 */
const INPUT_TEXT = sql.lit(
  'strict $.messages[*] ? (@.role != "system").keyvalue() ? (@.key != "role").value.** ? (@.type() == "string")',
);
const OUTPUT_TEXT = sql.lit('strict $.** ? (@.type() == "string")');

const likeEscape = (s: string) => s.replace(/[\\%_]/g, (c) => `\\${c}`);
/** The search text as it appears inside a JSON string (quotes, backslashes, control characters escaped). */
const jsonEscape = (s: string) => JSON.stringify(s).slice(1, -1);

const COACHING_IDS = sql`t.attributes -> ${sql.lit(COACHING_TRACE_ATTRIBUTE)}`;
/** The trace carries at least one coaching tag (a non-empty list, or a non-empty string). */
const APPLIED_ANY = sql`(t.attributes ? ${sql.lit(COACHING_TRACE_ATTRIBUTE)} and case jsonb_typeof(${COACHING_IDS})
  when 'array' then jsonb_array_length(${COACHING_IDS}) > 0
  when 'string' then ${COACHING_IDS} <> '""'::jsonb
  else false end)`;

function coachingCondition(c: TraceCoachingFilter): RawBuilder<unknown> {
  if (c === 'any') return APPLIED_ANY;
  if (c === 'none') return sql`not coalesce(${APPLIED_ANY}, false)`;
  if (c.version !== undefined)
    return sql`(t.attributes ? ${sql.lit(COACHING_TRACE_ATTRIBUTE)} and ${COACHING_IDS} ? ${`${c.id}@${c.version}`})`;
  return sql`(t.attributes ? ${sql.lit(COACHING_TRACE_ATTRIBUTE)} and ${COACHING_IDS} ?| array(
    select v.coaching_id || '@' || v.version from coaching_versions v where v.coaching_id = ${c.id}
  ))`;
}

function conditions(f: TraceListFilter): RawBuilder<unknown>[] {
  const where: RawBuilder<unknown>[] = [];
  if (f.from) where.push(sql`t.started_at >= ${new Date(f.from)}`);
  if (f.to) where.push(sql`t.started_at < ${new Date(f.to)}`);
  if (f.status) where.push(sql`t.status = ${f.status}`);
  if (f.outcome) where.push(sql`t.outcome = ${f.outcome}`);
  if (f.feedback === 'positive') where.push(sql`t.feedback > 0`);
  if (f.feedback === 'negative') where.push(sql`t.feedback < 0`);
  if (f.feedback === 'neutral') where.push(sql`t.feedback = 0`);
  if (f.feedback === 'none') where.push(sql`t.feedback is null`);
  if (f.promptName) where.push(sql`coalesce(t.prompt_name, t.agent_id) = ${f.promptName}`);
  if (f.promptVersion !== undefined) where.push(sql`t.prompt_version = ${f.promptVersion}`);
  if (f.after) {
    const at = sql`${f.after.t}::timestamptz`;
    // The plain bound lets the planner prune partitions; the row comparison breaks ties by id.
    where.push(sql`t.started_at <= ${at}`, sql`(t.started_at, t.id) < (${at}, ${f.after.i})`);
  }
  if (f.cluster) {
    where.push(sql`t.id in (
      select m.trace_id
      from clusters c
      join cluster_members m on m.cluster_id = c.id
      join cycles y on y.id = c.cycle_id
      where (c.id = ${f.cluster} or c.stable_id = ${f.cluster})
        and not exists (
          select 1
          from cluster_members m2
          join clusters c2 on c2.id = m2.cluster_id
          join cycles y2 on y2.id = c2.cycle_id
          where m2.trace_id = m.trace_id and (y2.started_at, y2.id) > (y.started_at, y.id)
        )
    )`);
  }
  if (f.coaching) where.push(coachingCondition(f.coaching));
  if (f.text) {
    const pattern = `%${likeEscape(jsonEscape(f.text))}%`;
    where.push(sql`(
      jsonb_path_query_array(t.input, ${INPUT_TEXT})::text ilike ${pattern}
      or jsonb_path_query_array(t.output, ${OUTPUT_TEXT})::text ilike ${pattern}
    )`);
  }
  return where;
}

const COLUMNS = sql`
  t.id, t.agent_id, t.started_at,
  to_char(t.started_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as started_at_exact,
  t.ended_at, t.status, t.outcome, t.feedback, t.feedback_text, t.prompt_name, t.prompt_version,
  t.model, t.session_id, t.user_id, t.latency_ms, t.cost_usd, t.input_tokens, t.output_tokens,
  left((
    select e.m ->> 'content'
    from jsonb_array_elements(case when jsonb_typeof(t.input -> 'messages') = 'array' then t.input -> 'messages' else '[]'::jsonb end)
      with ordinality as e(m, n)
    where e.m ->> 'role' = 'user'
    order by e.n desc
    limit 1
  ), ${PREVIEW_CHARS}) as input_preview,
  t.output ->> 'action' as output_action,
  left(t.output ->> 'content', ${PREVIEW_CHARS}) as output_content,
  left((t.output -> 'arguments')::text, ${PREVIEW_CHARS}) as output_arguments`;

/** Up to `limit` traces matching the filter, newest first, starting after the filter's cursor. */
export async function listTraceRows(db: Db, f: TraceListFilter, limit: number): Promise<TraceListRow[]> {
  const where = conditions(f);
  const filtered = where.length > 0 ? sql`and ${sql.join(where, sql` and `)}` : sql``;
  if (f.agent !== undefined) {
    const rows = await sql<TraceListRow>`
      select ${COLUMNS}
      from traces t
      where t.agent_id = ${f.agent} ${filtered}
      order by t.started_at desc, t.id desc
      limit ${limit}`.execute(db);
    return rows.rows;
  }
  const rows = await sql<TraceListRow>`
    select p.*
    from agents a
    cross join lateral (
      select ${COLUMNS}
      from traces t
      where t.agent_id = a.id ${filtered}
      order by t.started_at desc, t.id desc
      limit ${limit}
    ) p
    order by p.started_at desc, p.id desc
    limit ${limit}`.execute(db);
  return rows.rows;
}
