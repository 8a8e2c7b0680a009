import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { Client } from '@temporalio/client';
import { apiDeps, startApiServer, type ApiServer } from '../../api/http-server.js';
import { createAgentToken } from '../../registry/store/agent-tokens.js';
import type { Db } from '../../db/connection.js';
import { readTrace } from '../../traces/store/trace-reader.js';
import { assembleTrace, flattenOtlpRequest } from '../../traces/otlp-mapping.js';
import { TraceRecord, type Span } from '../../schemas/trace.js';
import { startTestDatabase } from '../helpers/test-stack.js';

/**
 * Each framework fixture (test/fixtures/otlp) sent over HTTP the way exporters send a trace —
 * the children in one batch, the root in a later one — is stored with every message, its
 * source role name, tool calls and ids, exactly as the in-process mapping reads it.
 */

const dir = fileURLToPath(new URL('../fixtures/otlp/', import.meta.url));
const AGENT = 'frameworks';

interface Body {
  resourceSpans: {
    resource: { attributes: { key: string; value: unknown }[] };
    scopeSpans: { spans: { traceId: string; parentSpanId?: string }[] }[];
  }[];
}

function fixtures(): { file: string; body: Body }[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((file) => {
      const body = JSON.parse(readFileSync(`${dir}${file}`, 'utf8')) as Body;
      for (const rs of body.resourceSpans) {
        rs.resource.attributes.push({ key: 'flywheel.agent', value: { stringValue: AGENT } });
      }
      return { file, body };
    });
}

/** The request with only the spans `keep` selects. */
function part(body: Body, keep: (isRoot: boolean) => boolean): Body {
  return {
    resourceSpans: body.resourceSpans.map((rs) => ({
      ...rs,
      scopeSpans: rs.scopeSpans.map((ss) => ({
        ...ss,
        spans: ss.spans.filter((s) => keep(s.parentSpanId === undefined)),
      })),
    })),
  };
}

describe('framework fixtures through OTLP ingest', () => {
  let database: { db: Db; teardown(): Promise<void> };
  let api: ApiServer;
  let token: string;

  before(async () => {
    database = await startTestDatabase();
    await database.db.insertInto('agents').values({ id: AGENT, config: '{}' }).execute();
    token = (await createAgentToken(database.db, { agent: AGENT, scopes: ['ingest'], createdBy: 'test' }))
      .token;
    // Temporal is not needed for ingest: a lazy client never connects.
    api = await startApiServer(apiDeps(database.db, new Client()), 0);
  });
  after(async () => {
    await api?.close();
    await database?.teardown();
  });

  it('stores every fixture whole: messages with their source roles, tool calls, the decision', async () => {
    const all = fixtures();
    assert.ok(all.length >= 8, 'one fixture per framework');
    for (const { file, body } of all) {
      for (const batch of [part(body, (root) => !root), part(body, (root) => root)]) {
        const res = await fetch(`${api.url}/v1/traces`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify(batch),
        });
        assert.equal(res.status, 200, `${file}: ${await res.clone().text()}`);
      }
      const { spans } = flattenOtlpRequest(JSON.parse(JSON.stringify(body)));
      const traceId = spans[0]!.traceId;
      const expected = TraceRecord.parse(
        assembleTrace({
          traceId,
          agent: AGENT,
          resource: spans[0]!.resource,
          spans: spans.map((s) => s.span),
        }),
      );
      const stored = await readTrace(database.db, traceId);
      assert.ok(stored, `${file}: stored`);
      assert.deepEqual(stored.input, expected.input, `${file}: trace input`);
      assert.deepEqual(stored.output, expected.output, `${file}: trace output`);
      assert.equal(stored.spans.length, expected.spans.length, `${file}: every span`);
      for (const s of expected.spans) {
        const got: Span | undefined = stored.spans.find((x) => x.spanId === s.spanId);
        assert.ok(got, `${file} ${s.name}: stored`);
        assert.deepEqual(got.inputMessages, s.inputMessages, `${file} ${s.name}: input messages`);
        assert.deepEqual(got.outputMessages, s.outputMessages, `${file} ${s.name}: output messages`);
        assert.deepEqual(got.tool, s.tool, `${file} ${s.name}: tool`);
      }
    }
    const code = await readTrace(
      database.db,
      fixtures().find((f) => f.file === 'smolagents-code-agent.json')!.body.resourceSpans[0]!.scopeSpans[0]!
        .spans[0]!.traceId,
    );
    assert.deepEqual(
      code!.input.messages.map((m) => m.sourceRole ?? null),
      [null, null, null, 'tool-call', 'tool-response'],
    );
  });
});
