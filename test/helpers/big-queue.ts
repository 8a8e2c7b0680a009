import { sql } from 'kysely';
import type { Page } from 'playwright-core';
import type { Db } from '../../db/connection.js';

/**
 * A queue of `items` items for the seeded demo agent, for measuring the queue page at size
 * (test/browser/dashboard.test.ts, bench:labeling): copies of the agent's seeded traces under
 * new ids, a cycle awaiting annotation, its queue (every third item judged pass, the rest fail
 * on tool selection) and the cycle's sample, which is what a reviewer reads of each item.
 */
export async function seedBigQueue(
  db: Db,
  items: number,
  stamp: number,
): Promise<{ cycleId: string; queueId: string; traces: string[] }> {
  const seeded = await db.selectFrom('traces').select('id').where('agent_id', '=', 'demo').execute();
  if (seeded.length === 0)
    throw new Error("seedBigQueue copies the demo agent's traces: seed the stack first");
  // Stored columns only: generated ones (sample_key) are computed again on insert.
  const { rows: columns } = await sql<{ column_name: string }>`
    select column_name from information_schema.columns
    where table_name = 'traces' and table_schema = current_schema() and is_generated = 'NEVER'
    order by ordinal_position`.execute(db);
  const names = columns.map((c) => c.column_name);
  const list = sql.raw(names.map((n) => `"${n}"`).join(', '));
  for (let copy = 0; seeded.length * copy < items; copy++) {
    const values = sql.raw(names.map((n) => (n === 'id' ? `id || '-q${copy}'` : `"${n}"`)).join(', '));
    await sql`insert into traces (${list}) select ${values} from traces
      where agent_id = 'demo' and id not like '%-q%'`.execute(db);
  }
  const traces = (
    await db
      .selectFrom('traces')
      .select('id')
      .where('agent_id', '=', 'demo')
      .where('id', 'like', '%-q%')
      .orderBy('id')
      .limit(items)
      .execute()
  ).map((t) => t.id);
  const cycleId = `cycle-demo-big-queue-${stamp}`;
  const now = new Date().toISOString();
  await db
    .insertInto('cycles')
    .values({
      id: cycleId,
      agent_id: 'demo',
      run_id: 'big-queue',
      stage: 'awaiting_annotation',
      outcome: 'in_progress',
      window_start: now,
      window_end: now,
      input: JSON.stringify({ agent: 'demo' }),
    })
    .execute();
  const queueId = `queue-${cycleId}`;
  await db
    .insertInto('annotation_queues')
    .values({
      id: queueId,
      agent_id: 'demo',
      cycle_id: cycleId,
      name: 'A thousand items',
      reviewers_per_item: 1,
      quorum: 1,
      claim_seconds: 900,
    })
    .execute();
  await db
    .insertInto('annotation_items')
    .values(
      traces.map((traceId, i) => ({
        id: `${queueId}-item-${String(i).padStart(4, '0')}`,
        cycle_id: cycleId,
        trace_id: traceId,
        queue_id: queueId,
        cluster_id: null,
        judge_label: i % 3 === 0 ? 'pass' : 'fail',
        judge_category: i % 3 === 0 ? null : 'tool_selection',
      })),
    )
    .execute();
  await sql`insert into samples (cycle_id, trace_id, reason, redacted)
    select ${cycleId}, t.id, 'random', jsonb_build_object('input', t.input, 'output', t.output)
    from traces t where t.id = any(${traces})`.execute(db);
  return { cycleId, queueId, traces };
}

/**
 * On the queue page: 100 × `j` then 20 × `k`, each timed in the page from the key to the next
 * frame (the handler, the focus move and the scroll it causes); ends on item 80 (index 79).
 * A string: the caller's code is typed for Node, the timing runs in the page.
 */
export function keyToFrameMs(page: Page): Promise<number[]> {
  return page.evaluate<number[]>(`(async () => {
    const times = [];
    const frame = () => new Promise((resolve) => requestAnimationFrame(resolve));
    for (let i = 0; i < 120; i++) {
      const t0 = performance.now();
      window.dispatchEvent(new KeyboardEvent('keydown', { key: i < 100 ? 'j' : 'k', bubbles: true }));
      await frame();
      times.push(performance.now() - t0);
    }
    return times;
  })()`);
}
