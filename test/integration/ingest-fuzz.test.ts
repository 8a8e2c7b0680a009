import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client } from '@temporalio/client';
import { apiDeps, startApiServer, type ApiServer } from '../../api/http-server.js';
import { createAgentToken } from '../../registry/store/agent-tokens.js';
import type { Db } from '../../db/connection.js';
import { startTestDatabase } from '../helpers/test-stack.js';
import { runIngestFuzz } from '../helpers/ingest-fuzz-run.js';

/**
 * Property-based: malformed OTLP JSON, OTLP protobuf and JSONL bodies never get a server
 * error, and the valid records sent beside them are stored. The suite runs a few hundred
 * bodies on a fixed seed; `npm run fuzz:ingest` runs 10,000 on fresh seeds.
 */
describe('ingest under generated malformed bodies', () => {
  let database: { db: Db; teardown(): Promise<void> };
  let api: ApiServer;
  let token: string;

  before(async () => {
    database = await startTestDatabase();
    await database.db.insertInto('agents').values({ id: 'fuzz', config: '{}' }).execute();
    token = (await createAgentToken(database.db, { agent: 'fuzz', scopes: ['ingest'], createdBy: 'test' }))
      .token;
    api = await startApiServer(apiDeps(database.db, new Client()), 0);
  });
  after(async () => {
    await api?.close();
    await database?.teardown();
  });

  for (const path of ['otlp-json', 'otlp-protobuf', 'jsonl'] as const) {
    it(`${path}: no 5xx, and the valid records beside the broken ones are stored`, async () => {
      const report = await runIngestFuzz({
        db: database.db,
        url: api.url,
        token,
        agent: 'fuzz',
        path,
        runs: 150,
        seed: 20261206,
      });
      assert.equal(report.serverErrors.length, 0, JSON.stringify(report.serverErrors.slice(0, 3)));
      assert.equal(report.validLost.length, 0, JSON.stringify(report.validLost.slice(0, 3)));
      // The generator must reach the paths it claims to: some bodies rejected in part, some kept whole.
      assert.ok(report.partlyRejected > 0, 'no body was rejected even in part');
      assert.ok(report.validStored > 0, 'no valid record was stored');
    });
  }
});
