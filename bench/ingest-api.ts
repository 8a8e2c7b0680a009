/**
 * The API server process for bench:ingest: the production server and wiring, alone in its
 * own process (as `flywheel api` runs it), so the load generator does not share its CPU
 * time. Temporal is not used by ingest, so its client stays lazy and never connects.
 *
 *   tsx bench/ingest-api.ts <database url> [--workers N]
 *
 * `--workers N` runs N API processes on one port (see api/api-workers.ts), as N replicas
 * of `flywheel api` behind a load balancer would.
 */
import { parseArgs } from 'node:util';
import { Client } from '@temporalio/client';
import { runApiWorkers } from '../api/api-workers.js';
import { apiDeps, startApiServer } from '../api/http-server.js';
import { connectDatabase } from '../db/connection.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { workers: { type: 'string', default: '1' } },
});
const url = positionals[0];
if (!url) throw new Error('usage: ingest-api.ts <database url> [--workers N]');
const server = await runApiWorkers({
  workers: Number(values.workers),
  start: async () => {
    const db = connectDatabase(url, 8);
    const api = await startApiServer(apiDeps(db, new Client()), 0);
    return { url: api.url, close: () => api.close().then(() => db.destroy()) };
  },
});
if (server.role !== 'worker') {
  console.log(`listening on ${server.url}`);
  process.once('SIGTERM', () => {
    void server.close().then(() => process.exit(0));
  });
}
