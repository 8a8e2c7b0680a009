/**
 * `npm run fuzz:ingest`: property-based fuzzing of trace ingest over HTTP against a real
 * PostgreSQL. Generated malformed OTLP JSON, OTLP protobuf and JSONL bodies (10,000 by
 * default, split evenly across the three), each carrying valid records beside the broken
 * part; reports every 5xx and every valid record that was not stored, and writes
 * bench/results/ingest-fuzz.json. The test suite runs the same generator on a fixed seed
 * and a few hundred bodies (test/integration/ingest-fuzz.test.ts).
 *
 * Usage: npm run fuzz:ingest -- [--runs 10000] [--seed N] [--out FILE]
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Client } from '@temporalio/client';
import { apiDeps, startApiServer } from '../api/http-server.js';
import { createAgentToken } from '../registry/store/agent-tokens.js';
import { startTestDatabase } from '../test/helpers/test-stack.js';
import { runIngestFuzz, type IngestFuzzReport } from '../test/helpers/ingest-fuzz-run.js';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '10000' },
    seed: { type: 'string' },
    out: { type: 'string', default: path.resolve(import.meta.dirname, 'results/ingest-fuzz.json') },
  },
});
const runs = Number(values.runs);
if (!Number.isInteger(runs) || runs < 3)
  throw new Error(`--runs must be a whole number ≥ 3, got ${values.runs}`);
// A fresh seed per run finds new bodies; it is printed and saved, so any failure replays.
const seed = values.seed === undefined ? Date.now() % 2 ** 31 : Number(values.seed);

const database = await startTestDatabase();
const started = performance.now();
try {
  await database.db.insertInto('agents').values({ id: 'fuzz', config: '{}' }).execute();
  const { token } = await createAgentToken(database.db, {
    agent: 'fuzz',
    scopes: ['ingest'],
    createdBy: 'fuzz',
  });
  const api = await startApiServer(apiDeps(database.db, new Client()), 0);
  const reports: IngestFuzzReport[] = [];
  const paths = ['otlp-json', 'otlp-protobuf', 'jsonl'] as const;
  for (const [i, p] of paths.entries()) {
    const share = Math.floor(runs / paths.length) + (i < runs % paths.length ? 1 : 0);
    const report = await runIngestFuzz({
      db: database.db,
      url: api.url,
      token,
      agent: 'fuzz',
      path: p,
      runs: share,
      seed: seed + i,
    });
    reports.push(report);
    console.log(
      `${p.padEnd(14)} ${String(share).padStart(6)} bodies  5xx ${report.serverErrors.length}  valid lost ${report.validLost.length}  ` +
        `valid stored ${report.validStored}  partly rejected ${report.partlyRejected}  statuses ${JSON.stringify(report.statuses)}`,
    );
  }
  await api.close();
  const total = {
    bodies: reports.reduce((a, r) => a + r.runs, 0),
    serverErrors: reports.reduce((a, r) => a + r.serverErrors.length, 0),
    validLost: reports.reduce((a, r) => a + r.validLost.length, 0),
    seconds: Math.round((performance.now() - started) / 1000),
  };
  console.log(`total: ${JSON.stringify(total)} (seed ${seed})`);
  writeFileSync(values.out, `${JSON.stringify({ seed, total, reports }, null, 2)}\n`);
  process.exitCode = total.serverErrors + total.validLost > 0 ? 1 : 0;
} finally {
  await database.teardown();
}
