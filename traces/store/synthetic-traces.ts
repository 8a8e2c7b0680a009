import { sql } from 'kysely';
import type { Db } from '../../db/connection.js';

/**
 * Synthetic airline traces of the agent `bench`, generated inside Postgres (INSERT …
 * SELECT over generate_series) so the ingest benchmark can fill a week of millions of
 * traces in minutes rather than send them through the writer. Benchmark data only.
 *
 * The data is shaped so that every stage of the sampling policy has work to do, as it
 * would on a real week (a week of unique texts, evenly spread users and no PII times
 * only the index reads, and reports dedup, user caps and redaction as zero):
 * - users are heavy-tailed: 5 % anonymous, the rest Zipf-like over a million ids,
 *   P(rank r) ∝ 1/(r + 4.5), so the top user sends ~1.5 % of the week, the top 100 ~25 %,
 *   and most users one trace or a few — per-user caps bind on the heavy ones;
 * - 25 % of requests are frequently asked questions from a pool of 320 (also Zipf-like),
 *   written six ways: three differ only in case and punctuation (exact duplicates once
 *   normalized) and three add greetings and politeness (near duplicates: same content
 *   words); the other 75 % are specific requests with their own reservation code, date
 *   and user id, which no other trace repeats;
 * - PII as users write it: an email in 5 % of the specific requests, a phone number
 *   (+1 and NANP forms) in 3 %, a Luhn-valid card in 1.5 %, an IBAN in 0.5 %, an IPv4
 *   address in 0.5 %, and a client IP in 2 % of the traces' attributes;
 * - the always-sampled strata at their usual rates, decided by hashes of the trace number
 *   so they do not line up with users or texts: thumbs-down ~1 %, escalations ~0.3 %,
 *   errors ~0.5 %, refunds above 500 ~0.5 % (the bench agent's custom stratum).
 * Each trace carries a short system message, the user turn and the agent's reply, about
 * 1 kB a row: the sampler's cost is in the index and heap pages it reads, and a real
 * trace's long conversation (TOASTed) is read only for the sampled thousand.
 */

/** A [0, 1) number from the trace number and a salt, the same on every run. */
const unit = (salt: number) => sql`((hashint8extended(g, ${sql.lit(salt)}) & 1048575)::float8 / 1048576)`;

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
    select 'fill-' || g, 'bench', case when u.user_rank = 0 then null else 'user-' || u.user_rank end,
      'sess-' || (g / 4),
      ${args.windowStart}::timestamptz + make_interval(secs => (g - 0.5) * ${args.spacingSeconds}),
      ${args.windowStart}::timestamptz + make_interval(secs => (g - 0.5) * ${args.spacingSeconds} + 3),
      'gpt-4o', case when r.u_error < 1 / 211.0 then 'error' else 'ok' end,
      jsonb_build_object('messages', jsonb_build_array(
        jsonb_build_object('role', 'system', 'content',
          'You are the customer service agent of an airline. Verify the user before changing a booking, '
          || 'follow the baggage, change and refund policy, and transfer to a human agent when the policy says so.'),
        jsonb_build_object('role', 'user', 'content', t.text))),
      jsonb_build_object('action', (array['respond', 'get_reservation_details', 'cancel_reservation', 'update_reservation_flights'])[1 + g % 4],
        'arguments', jsonb_build_object('reservation_id', t.code)),
      case when r.u_feedback < 1 / 97.0 then -1 when r.u_feedback < 1 / 97.0 + 1 / 9.0 then 1 end,
      case when r.u_outcome < 1 / 331.0 then 'escalated' when r.u_outcome < 1 / 13.0 then 'success' end,
      (g % 9000)::float8, 900 + g % 400, 40 + g % 200, '{}'::jsonb,
      jsonb_build_object('refund_amount', case when r.u_refund < 1 / 199.0 then 520 + g % 900 else g % 400 end,
        'tier', (array['basic', 'gold', 'platinum'])[1 + g % 3], 'channel', 'web')
        || case when r.u_ip < 0.02 then jsonb_build_object('client_ip', '198.51.100.' || (1 + g % 254)) else '{}'::jsonb end,
      -- What the writer stores for the agent's "refund_amount > 500" stratum.
      case when r.u_refund < 1 / 199.0 then array['big_refund'] else '{}'::text[] end
    from generate_series(${args.first}::bigint, ${args.last}::bigint) g
    cross join lateral (select ${unit(1)} as u_user, ${unit(2)} as u_faq, ${unit(3)} as u_pick,
      ${unit(4)} as u_pii, hashint8extended(g, 5) & 1048575 as h, ${unit(6)} as u_feedback,
      ${unit(7)} as u_outcome, ${unit(8)} as u_error, ${unit(9)} as u_refund, ${unit(10)} as u_ip) r
    cross join lateral (select
      -- 5 (200001)^u - 4 is log-uniform over [1, 1000001): P(rank r) ∝ 1/(r + 4.5).
      case when r.u_user < 0.05 then 0 else floor(5 * power(200001::float8, (r.u_user - 0.05) / 0.95))::int - 4 end as user_rank,
      -- 3 (107)^u - 3 picks question q of 0..317 with P(q) ∝ 1/(q + 3.5).
      floor(3 * power(107::float8, r.u_pick))::int - 3 as faq) u
    cross join lateral (select upper(substr(md5(g::text), 1, 6)) as code,
      (array['what is the baggage allowance', 'how much does a checked bag cost', 'can i bring my dog in the cabin',
        'how do i check in online', 'what is the refund policy for a cancelled flight', 'can i change my flight for free',
        'how early should i arrive at the airport', 'do you offer wifi on board', 'can i choose my seat',
        'what happens if i miss my connection', 'how do i add a frequent flyer number', 'is travel insurance included',
        'can i bring a stroller', 'what are the liquids rules', 'how do i request a wheelchair',
        'can i upgrade with miles', 'what meals are served', 'how do i get a receipt', 'can unaccompanied minors fly',
        'what is the cancellation fee', 'how do i report lost luggage', 'can i carry a musical instrument',
        'do gold members get lounge access', 'how long is a layover allowed', 'can i pay in installments',
        'what documents do i need', 'can i change the name on a ticket', 'is there a student discount',
        'how do i book a group trip', 'can i bring sports equipment', 'how are delays compensated',
        'can i hold a reservation', 'do you fly to hawaii', 'what is basic economy', 'can i get a window seat',
        'how do i update my email address', 'can pets fly in cargo', 'is there a fee for infants',
        'can i rebook after a delay', 'how do i earn miles'])[1 + u.faq % 40]
      || ' ' || (array['on international flights', 'in basic economy', 'for my trip next month', 'on a domestic flight',
        'as a gold member', 'with a connecting flight', 'on a codeshare flight', 'for two passengers'])[1 + u.faq / 40]
        as question) q
    cross join lateral (select q.code, case
      when r.u_faq < 0.25 then (array[
          upper(substr(q.question, 1, 1)) || substr(q.question, 2) || '?',
          q.question,
          upper(q.question) || '??',
          'Hi, ' || q.question || '?',
          'Hello there, could you help? ' || upper(substr(q.question, 1, 1)) || substr(q.question, 2) || '. Thanks!',
          q.question || ', please.'])[1 + r.h % 6]
      else (array['I need to cancel reservation', 'Can I change the flight on booking', 'How many bags can I bring on',
                  'Please refund my trip', 'Upgrade my seat on reservation', 'What is the status of flight'])[1 + r.h % 6]
        || ' ' || q.code || ' for ' || (array['tomorrow', 'May 20', 'next week', 'today', 'June 3', 'the 14th'])[1 + (r.h / 6) % 6]
        || '. My user id is user_' || u.user_rank || ' and I am a ' || (array['gold', 'silver', 'regular'])[1 + (r.h / 36) % 3] || ' member.'
        || case
          when r.u_pii < 0.05 then ' You can reach me at ' || (array['anna', 'li', 'omar', 'sofia', 'john.d', 'k_tan'])[1 + (r.h / 108) % 6]
            || '.' || u.user_rank || '@' || (array['gmail.com', 'example.org', 'mail.co.uk', 'outlook.com'])[1 + (r.h / 648) % 4] || '.'
          when r.u_pii < 0.065 then ' Call me at +1 ' || (200 + (r.h / 108) % 700) || ' 555 ' || lpad(((r.h / 7) % 10000)::text, 4, '0') || '.'
          when r.u_pii < 0.08 then ' My phone is (' || (200 + (r.h / 108) % 700) || ') 555-' || lpad(((r.h / 7) % 10000)::text, 4, '0') || '.'
          when r.u_pii < 0.095 then ' Charge it to my card ' || (array['4111 1111 1111 1111', '5555-5555-5555-4444',
            '4242424242424242', '3782 822463 10005', '6011 1111 1111 1117'])[1 + (r.h / 108) % 5] || ' please.'
          when r.u_pii < 0.1 then ' Send the refund to ' || (array['DE89 3704 0044 0532 0130 00', 'GB82 WEST 1234 5698 7654 32',
            'FR1420041010050500013M02606'])[1 + (r.h / 108) % 3] || '.'
          when r.u_pii < 0.105 then ' The site says my IP 203.0.113.' || (1 + g % 254) || ' is blocked.'
          else '' end
      end as text) t`.execute(db);
}

/** Refreshes the planner's statistics of traces after a bulk load, as autovacuum would later. */
export async function analyzeTraces(db: Db): Promise<void> {
  await sql`analyze traces`.execute(db);
}

/**
 * Vacuums and analyzes traces after a bulk load: a week that a weekly cycle samples has
 * been vacuumed by autovacuum during the week (hint bits set, visibility map current), and
 * a fresh fill has not, so its first reads would write every page they touch.
 */
export async function vacuumTraces(db: Db): Promise<void> {
  await sql`vacuum (analyze) traces`.execute(db);
}

/** Blocks this database read from outside shared buffers and found in them, since the server's stats were reset. */
export async function blockCounters(db: Db): Promise<{ read: number; hit: number }> {
  const rows = (
    await sql<{
      read: string;
      hit: string;
    }>`select blks_read as read, blks_hit as hit from pg_stat_database where datname = current_database()`.execute(
      db,
    )
  ).rows;
  return { read: Number(rows[0]?.read ?? 0), hit: Number(rows[0]?.hit ?? 0) };
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
