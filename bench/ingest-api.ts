/**
 * The API server process for bench:ingest: the production server and wiring, alone in its
 * own process (as `flywheel api` runs it), so the load generator does not share its CPU
 * time. Temporal is not used by ingest, so its client stays lazy and never connects.
 */
import { Client } from '@temporalio/client';
import { apiDeps, startApiServer } from '../api/http-server.js';
import { connectDatabase } from '../db/connection.js';

const url = process.argv[2];
if (!url) throw new Error('usage: ingest-api.ts <database url>');
const db = connectDatabase(url, 8);
const server = await startApiServer(apiDeps(db, new Client()), 0);
console.log(`listening on ${server.url}`);
process.once('SIGTERM', () => {
  void server
    .close()
    .then(() => db.destroy())
    .then(() => process.exit(0));
});
