import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client } from '@temporalio/client';
import { apiDeps, startApiServer, type ApiServer } from '../../api/http-server.js';
import type { Db } from '../../db/connection.js';
import { DEFAULT_COACHING_THRESHOLD, type ThresholdCalibration } from '../../schemas/coaching.js';
import { createAgentToken } from '../../registry/store/agent-tokens.js';
import { personWithToken } from '../helpers/api-credentials.js';
import { simulatedRoles } from '../helpers/simulated-roles.js';
import { startTestDatabase } from '../helpers/test-stack.js';
import { simulateSituation } from '../simulator/simulated-coaching.js';
import { AIRLINE_SCENARIO, loadScenario } from '../simulator/scenario.js';
import { startSimulator, type SimulatorServer } from '../simulator/simulator-server.js';
import { callApi } from '../helpers/api-call.js';

const scenario = loadScenario(AIRLINE_SCENARIO);
const example = (id: string) => scenario.examples.find((e) => e.id === id)!;
const traceOf = (id: string) => `trace-${id}`;

interface View {
  id: string;
  version: number;
  threshold: number;
  authorThreshold: number;
  thresholdCalibration: ThresholdCalibration | null;
}

/**
 * The calibrated default threshold on real Postgres, with the simulator's embedder model:
 * the one on which the fixed default (0.32) recalls a suggested situation in none of its
 * conversations. A coaching created without a threshold gets one between its source and the
 * agent's other traces, says how, and recalls its situation; one given a threshold keeps it;
 * reviewers' marks move the calibrated threshold within bounds relative to it.
 */
describe('calibrated default threshold on real Postgres with the simulator’s embedder', () => {
  let database: { db: Db; url: string; teardown(): Promise<void> };
  let db: Db;
  let api: ApiServer;
  let sim: SimulatorServer;
  const headers: Record<'rita' | 'agent', Record<string, string>> = {} as never;
  let calibrated: View;

  const call = (who: keyof typeof headers, method: string, path: string, body?: unknown) =>
    callApi<Record<string, unknown>>(api.url, headers[who], method, path, body);
  const recalled = async (text: string) => {
    const res = await call('agent', 'POST', '/api/agents/airline/coaching/recall', {
      messages: [{ role: 'user', content: text }],
    });
    assert.equal(res.status, 200, JSON.stringify(res.json));
    return (res.json.coaching as { id: string }[]).map((c) => c.id);
  };

  before(async () => {
    database = await startTestDatabase();
    db = database.db;
    await db.insertInto('agents').values({ id: 'airline', config: '{}' }).execute();
    sim = await startSimulator(scenario, 0);
    api = await startApiServer(apiDeps(db, new Client(), { llm: simulatedRoles(sim.url, db) }), 0);
    headers.rita = (await personWithToken(db, 'rita', 'reviewer', 'airline')).headers;
    const token = await createAgentToken(db, { agent: 'airline', scopes: ['ingest'], createdBy: 'test' });
    const resolve = await createAgentToken(db, { agent: 'airline', scopes: ['resolve'], createdBy: 'test' });
    headers.agent = { authorization: `Bearer ${resolve.token}` };
    // The agent's traffic: one trace per scenario request.
    const lines = scenario.examples.map((e, i) =>
      JSON.stringify({
        id: traceOf(e.id),
        agent: 'airline',
        timestamp: new Date(Date.UTC(2026, 11, 1, 10, 0, i)).toISOString(),
        input: { messages: [{ role: 'user', content: e.request }] },
        output: { action: 'respond', content: 'ok' },
      }),
    );
    const ingested = await fetch(`${api.url}/api/traces`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token.token}` },
      body: lines.join('\n'),
    });
    assert.equal(ingested.status, 200, await ingested.text());
  });
  after(async () => {
    await api?.close();
    await sim?.close();
    await database?.teardown();
  });

  it('calibrates a coaching created without a threshold and says how, so its situation is recalled', async () => {
    const source = example('ex-001');
    const { situation } = simulateSituation(scenario, source.request);
    const created = await call('rita', 'POST', '/api/agents/airline/coaching', {
      situation,
      behaviour: { kind: 'reply', text: 'Basic economy flights cannot be modified.' },
      sourceTraceId: traceOf(source.id),
    });
    assert.equal(created.status, 201, JSON.stringify(created.json));
    calibrated = created.json.coaching as View;
    const how = calibrated.thresholdCalibration!;
    assert.equal(how.rule, 'calibrated');
    assert.equal(how.embedder, 'model:sim-embed');
    assert.equal(how.others, scenario.examples.length - 1, 'every other trace, not the source');
    assert.ok(how.source! > calibrated.threshold && how.gap!.lower < calibrated.threshold);
    assert.ok(calibrated.threshold < DEFAULT_COACHING_THRESHOLD, `${calibrated.threshold}`);
    assert.equal(calibrated.authorThreshold, calibrated.threshold);
    assert.match(
      how.summary,
      /^calibrated: source 0\.\d+, \d+ of 71 other requests at 0\.\d+ or above, the rest 0\.\d+ or below → 0\.\d+$/,
    );
    const shown = await call('rita', 'GET', `/api/agents/airline/coaching/${calibrated.id}`);
    assert.deepEqual((shown.json.coaching as View).thresholdCalibration, how);

    // Every other request of the kind recalls it; no request of another kind does.
    const kind = (e: typeof source) => `${e.rule}|${[...e.tags].sort().join()}`;
    for (const e of scenario.examples) {
      if (e.id === source.id) continue;
      const ids = await recalled(e.request);
      assert.equal(ids.includes(calibrated.id), kind(e) === kind(source), `${e.id}: ${e.request}`);
    }
  });

  it('keeps a threshold its author set, with no calibration', async () => {
    const created = await call('rita', 'POST', '/api/agents/airline/coaching', {
      situation: 'When a customer wants to file a claim for a damaged bag',
      behaviour: { kind: 'transfer', reason: 'damaged baggage claim' },
      threshold: 0.2,
    });
    assert.equal(created.status, 201, JSON.stringify(created.json));
    const view = created.json.coaching as View;
    assert.equal(view.threshold, 0.2);
    assert.equal(view.thresholdCalibration, null);
  });

  it('lets reviewers’ marks move the calibrated threshold within bounds relative to it', async () => {
    // A conversation of another kind that applied it, marked wrongly applied.
    const other = example('ex-002');
    const applied = JSON.stringify({
      id: 'trace-applied-wrongly',
      agent: 'airline',
      timestamp: '2026-12-02T10:00:00Z',
      input: { messages: [{ role: 'user', content: other.request }] },
      output: { action: 'respond', content: 'ok' },
      attributes: { 'flywheel.coaching.ids': [`${calibrated.id}@1`] },
    });
    const token = await createAgentToken(db, { agent: 'airline', scopes: ['ingest'], createdBy: 'test' });
    const ingested = await fetch(`${api.url}/api/traces`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token.token}` },
      body: applied,
    });
    assert.equal(ingested.status, 200, await ingested.text());
    const marked = await call('rita', 'POST', `/api/agents/airline/coaching/${calibrated.id}/marks`, {
      traceId: 'trace-applied-wrongly',
      verdict: 'wrong',
    });
    assert.equal(marked.status, 200, JSON.stringify(marked.json));
    const threshold = marked.json.threshold as {
      before: number;
      after: number;
      bounds: { lower: number; upper: number };
    };
    assert.equal(threshold.before, calibrated.threshold);
    assert.deepEqual(threshold.bounds, {
      lower: Math.round((calibrated.threshold - 0.1) * 10_000) / 10_000,
      upper: Math.round((calibrated.threshold + 0.3) * 10_000) / 10_000,
    });
    const shown = (await call('rita', 'GET', `/api/agents/airline/coaching/${calibrated.id}`)).json
      .coaching as View;
    assert.equal(shown.authorThreshold, calibrated.threshold, 'the calibrated threshold stays the author’s');
    assert.deepEqual(shown.thresholdCalibration, calibrated.thresholdCalibration);
    assert.ok(shown.threshold >= threshold.after - 1e-9 && shown.threshold <= threshold.bounds.upper);
  });
});
