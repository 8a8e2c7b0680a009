import { sql } from 'kysely';
import type { Db } from '../../db/connection.js';

/**
 * Synthetic airline traces of the agent `bench`, generated inside Postgres (INSERT …
 * SELECT over generate_series) so the ingest benchmark can fill a week of millions of
 * traces in minutes rather than send them through the writer. Benchmark data only.
 */

/**
 * Inserts traces `fill-<first>` … `fill-<last>`; trace g starts `(g - 0.5) * spacingSeconds`
 * after `windowStart`. The daily partitions they fall in must exist already.
 */
export async function insertSyntheticTraces(
  db: Db,
  args: { windowStart: Date; spacingSeconds: number; first: number; last: number },
): Promise<void> {
  await sql`
    insert into traces (id, agent_id, user_id, session_id, started_at, ended_at, model, status, input, output,
      feedback, outcome, latency_ms, input_tokens, output_tokens, spans, attributes, strata)
    select 'fill-' || g, 'bench', 'user-' || (g % 60000), 'sess-' || (g / 4),
      ${args.windowStart}::timestamptz + make_interval(secs => (g - 0.5) * ${args.spacingSeconds}),
      ${args.windowStart}::timestamptz + make_interval(secs => (g - 0.5) * ${args.spacingSeconds} + 3),
      'gpt-4o', case when g % 211 = 0 then 'error' else 'ok' end,
      jsonb_build_object('messages', jsonb_build_array(
        jsonb_build_object('role', 'user', 'content',
          (array['I need to cancel reservation', 'Can I change the flight on booking', 'How many bags can I bring on',
                 'Please refund my trip', 'Upgrade my seat on reservation', 'What is the status of flight'])[1 + g % 6]
          || ' ' || upper(substr(md5(g::text), 1, 6)) || ' for ' || (array['tomorrow', 'May 20', 'next week', 'today'])[1 + (g / 7) % 4]
          || '. My user id is user_' || (g % 60000) || ' and I am a ' || (array['gold', 'silver', 'regular'])[1 + g % 3] || ' member.'))),
      jsonb_build_object('action', (array['respond', 'get_reservation_details', 'cancel_reservation', 'update_reservation_flights'])[1 + g % 4],
        'arguments', jsonb_build_object('reservation_id', upper(substr(md5(g::text), 1, 6)))),
      case when g % 97 = 3 then -1 when g % 9 = 1 then 1 end,
      case when g % 331 = 5 then 'escalated' when g % 13 = 2 then 'success' end,
      (g % 9000)::float8, 900 + g % 400, 40 + g % 200, '{}'::jsonb,
      jsonb_build_object('refund_amount', case when g % 199 = 11 then 520 + g % 900 else g % 400 end,
        'tier', (array['basic', 'gold', 'platinum'])[1 + g % 3], 'channel', 'web'),
      -- What the writer stores for the agent's "refund_amount > 500" stratum.
      case when g % 199 = 11 then array['big_refund'] else '{}'::text[] end
    from generate_series(${args.first}::bigint, ${args.last}::bigint) g`.execute(db);
}

/** Refreshes the planner's statistics of traces after a bulk load, as autovacuum would later. */
export async function analyzeTraces(db: Db): Promise<void> {
  await sql`analyze traces`.execute(db);
}

/** How many traces the table holds, how many of them the bench agent started in the window, and its size on disk. */
export async function syntheticFillSummary(
  db: Db,
  windowStart: Date,
  windowEnd: Date,
): Promise<{ tracesInTable: number; inWindow: number; size: string }> {
  const [{ n: tracesInTable } = { n: 0 }] = (
    await sql<{ n: number }>`select count(*)::int as n from traces`.execute(db)
  ).rows;
  const [{ n: inWindow } = { n: 0 }] = (
    await sql<{
      n: number;
    }>`select count(*)::int as n from traces where agent_id = 'bench' and started_at >= ${windowStart} and started_at < ${windowEnd}`.execute(
      db,
    )
  ).rows;
  const [{ size } = { size: '' }] = (
    await sql<{
      size: string;
    }>`select pg_size_pretty(sum(pg_total_relation_size(c.oid))) as size from pg_inherits i join pg_class c on c.oid = i.inhrelid join pg_class p on p.oid = i.inhparent where p.relname = 'traces'`.execute(
      db,
    )
  ).rows;
  return { tracesInTable, inWindow, size };
}
