/**
 * One timed weekly sample for bench:ingest, in a process of its own: a fresh Node (no
 * JIT-warmed selection or dedup code, no pooled connections) against a Postgres that the
 * parent has just restarted with the OS page cache of its data evicted, as a weekly cycle
 * finds them. Prints one JSON line: the activity's result and its wall time, which
 * includes opening the connections.
 *
 *   tsx bench/ingest-sample-run.ts '<json: databaseUrl, cycleId, agent, windowStart, windowEnd, seed>'
 */
import { z } from 'zod';
import { createSampleActivities } from '../activities/sample-traces.js';
import { connectDatabase } from '../db/connection.js';

const Args = z.object({
  databaseUrl: z.string().min(1),
  cycleId: z.string().min(1),
  agent: z.string().min(1),
  windowStart: z.iso.datetime(),
  windowEnd: z.iso.datetime(),
  seed: z.number().int(),
});

const parsed = Args.safeParse(JSON.parse(process.argv[2] ?? 'null'));
if (!parsed.success) throw new Error(`ingest-sample-run: ${z.prettifyError(parsed.error)}`);
const { databaseUrl, ...input } = parsed.data;
// The pool a worker opens (workers/worker-main.ts): the default size.
const db = connectDatabase(databaseUrl);
try {
  const started = performance.now();
  const result = await createSampleActivities({ db }).sampleTraces(input);
  const ms = performance.now() - started;
  console.log(JSON.stringify({ ms, result }));
} finally {
  await db.destroy();
}
