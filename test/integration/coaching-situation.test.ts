import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { Client } from '@temporalio/client';
import { apiDeps, startApiServer, type ApiServer } from '../../api/http-server.js';
import { annotationQueueId } from '../../annotation/annotation-ids.js';
import type { Db } from '../../db/connection.js';
import { createAgentToken } from '../../registry/store/agent-tokens.js';
import { personWithToken } from '../helpers/api-credentials.js';
import { simulatedRoles } from '../helpers/simulated-roles.js';
import { startTestDatabase } from '../helpers/test-stack.js';
import { AIRLINE_SCENARIO, loadScenario, scenarioTools } from '../simulator/scenario.js';
import { SIMULATED_MODELS, startSimulator, type SimulatorServer } from '../simulator/simulator-server.js';
import { callApi } from '../helpers/api-call.js';

const ROOT = path.resolve(import.meta.dirname, '../..');

const scenario = loadScenario(AIRLINE_SCENARIO);
const request = (id: string) => scenario.examples.find((e) => e.id === id)!.request;
/** The basic-economy move the reviewer corrects, with an email the trace viewer redacts. */
const MOVE = `${request('ex-001')} Reach me at mia.li@example.com.`;
const MOVE_SITUATION = 'When a customer asks about reservation, basic, economy, move and flight';
const REPLY = 'Basic economy flights cannot be changed; I can cancel the reservation if it is eligible.';

interface Json {
  [key: string]: unknown;
}

/**
 * A coaching's situation suggested by the teacher model, over HTTP, in `coaching from-item`
 * and from the CLI, on real Postgres with the simulator as the model: the suggestion is
 * general (no names, ids or the request's wording), a coaching saved with it is recalled and
 * followed on the other requests of its kind and on no other, the quoted request stands in
 * (and says why) when no model is configured, and bad requests are refused.
 */
describe('coaching situations suggested by the teacher model on real Postgres', () => {
  let database: { db: Db; url: string; teardown(): Promise<void> };
  let db: Db;
  let api: ApiServer;
  /** The same API without models: situations are quoted. */
  let bare: ApiServer;
  let sim: SimulatorServer;
  const headers: Record<string, Record<string, string>> = {};
  const tokens: Record<string, string> = {};

  const call = (who: string, method: string, url: string, body?: unknown, server = api) =>
    callApi<Json & { error: string }>(server.url, headers[who], method, url, body);
  const suggest = (who: string, body: unknown, server = api) =>
    call(who, 'POST', '/api/agents/airline/coaching/situation', body, server);
  const ingest = async (id: string, agent: string, text: string) => {
    const res = await fetch(`${api.url}/api/traces`, {
      method: 'POST',
      headers: { ...headers[`${agent}-agent`], 'content-type': 'application/json' },
      body: JSON.stringify({
        id,
        agent,
        timestamp: new Date().toISOString(),
        input: {
          messages: [
            { role: 'system', content: scenario.basePrompt },
            { role: 'user', content: text },
          ],
        },
        output: { action: 'update_reservation_flights', arguments: { reservation_id: 'ZFA04Y' } },
      }),
    });
    assert.equal(res.status, 200, await res.text());
  };

  before(async () => {
    database = await startTestDatabase();
    db = database.db;
    const tools = scenarioTools(scenario).map((t) => ({ ...t, parameters: t.parameters }));
    await db
      .insertInto('agents')
      .values([
        { id: 'airline', config: JSON.stringify({ tools }) },
        { id: 'other', config: JSON.stringify({}) },
      ])
      .execute();
    sim = await startSimulator(scenario, 0);
    // The teacher suggests, the agent re-runs steps; situations embed locally, as with zero setup.
    api = await startApiServer(
      apiDeps(db, new Client(), { llm: { ...simulatedRoles(sim.url, db), embedder: null } }),
      0,
    );
    bare = await startApiServer(apiDeps(db, new Client()), 0);
    for (const [who, role, agent] of [
      ['rita', 'reviewer', 'airline'],
      ['otto', 'operator', 'airline'],
      ['vera', 'viewer', 'airline'],
      ['stranger', 'reviewer', 'other'],
    ] as const) {
      const person = await personWithToken(db, who, role, agent);
      headers[who] = person.headers;
      tokens[who] = person.token;
    }
    for (const agent of ['airline', 'other']) {
      const token = await createAgentToken(db, { agent, scopes: ['ingest', 'resolve'], createdBy: 'test' });
      headers[`${agent}-agent`] = { authorization: `Bearer ${token.token}` };
    }
    const prompt = await call('otto', 'POST', '/api/prompts', {
      name: 'airline',
      type: 'text',
      prompt: scenario.basePrompt,
      labels: ['production'],
    });
    assert.equal(prompt.status, 201, JSON.stringify(prompt.json));
    await ingest('move', 'airline', MOVE);
    await ingest('elsewhere', 'other', MOVE);
  });
  after(async () => {
    await api?.close();
    await bare?.close();
    await sim?.close();
    await database?.teardown();
  });

  it("suggests a general situation for a trace's step, which the simulated agent follows on every request of its kind and no other", async () => {
    const asked = sim.requests.length;
    const suggested = await suggest('rita', { traceId: 'move' });
    assert.equal(suggested.status, 200, JSON.stringify(suggested.json));
    assert.deepEqual(suggested.json, { situation: MOVE_SITUATION, source: 'model' });
    const teacherCalls = sim.requests.slice(asked).filter((r) => r.model === SIMULATED_MODELS.teacher);
    assert.equal(teacherCalls.length, 1, 'one teacher call, its answer usable at once');
    assert.doesNotMatch(
      teacherCalls[0]!.key,
      /mia\.li@example\.com/,
      'the model reads the redacted conversation',
    );
    // The step before the user's turn has no request to describe.
    const early = await suggest('rita', { traceId: 'move', step: 1 });
    assert.equal(early.status, 400);
    assert.match(early.json.error, /No user turn comes before step 1 of trace move/);

    const created = await call('rita', 'POST', '/api/agents/airline/coaching', {
      situation: suggested.json.situation,
      behaviour: { kind: 'reply', text: REPLY },
      sourceTraceId: 'move',
    });
    assert.equal(created.status, 201, JSON.stringify(created.json));
    const id = (created.json.coaching as { id: string }).id;
    const recalled = async (text: string) =>
      (
        (
          await call('airline-agent', 'POST', '/api/agents/airline/coaching/recall', {
            messages: [{ role: 'user', content: text }],
          })
        ).json.coaching as { id: string }[]
      ).map((c) => c.id);
    const tested = async (text: string) => {
      const { json } = await call('rita', 'POST', `/api/agents/airline/coaching/${id}/test`, {
        messages: [{ role: 'user', content: text }],
      });
      return { changed: json.changed as boolean, after: json.after as { action: string; content?: string } };
    };
    for (const ex of ['ex-007', 'ex-013', 'ex-019', 'ex-025', 'ex-031']) {
      assert.ok((await recalled(request(ex))).includes(id), `recalled on ${ex}`);
      const run = await tested(request(ex));
      assert.deepEqual([run.after.action, run.after.content], ['respond', REPLY], `followed on ${ex}`);
    }
    for (const ex of ['ex-002', 'ex-004', 'ex-037', 'ex-038', 'ex-039']) {
      assert.ok(!(await recalled(request(ex))).includes(id), `not recalled on ${ex}`);
      assert.equal((await tested(request(ex))).changed, false, `not followed on ${ex}`);
    }
  });

  it('suggests for a conversation given as messages, and quotes the request (saying why) without a teacher model', async () => {
    const messages = [
      { role: 'user', content: 'Hi' },
      { role: 'assistant', content: 'Hello, how can I help?' },
      { role: 'user', content: request('ex-004') },
    ];
    const model = await suggest('rita', { messages });
    assert.equal(model.status, 200, JSON.stringify(model.json));
    assert.deepEqual(model.json, {
      situation: 'When a customer asks about bag, damaged, file, claim, broken and handle',
      source: 'model',
    });
    const quoted = await suggest('rita', { traceId: 'move', step: 2 }, bare);
    assert.equal(quoted.status, 200, JSON.stringify(quoted.json));
    assert.equal(quoted.json.source, 'template');
    assert.equal(
      quoted.json.situation,
      `When replying to: "${MOVE.replace('mia.li@example.com', '[EMAIL]')}"`,
    );
    assert.match(String(quoted.json.fallbackReason), /no teacher model is configured/);
  });

  it('refuses a viewer, another agent’s reviewer, unknown or foreign traces, steps out of range and malformed bodies', async () => {
    const cases: [string, Awaited<ReturnType<typeof suggest>>, number, RegExp][] = [
      ['viewer', await suggest('vera', { traceId: 'move' }), 403, /reviewer/],
      ['other agent', await suggest('stranger', { traceId: 'move' }), 403, /reviewer|airline/],
      ['unknown trace', await suggest('rita', { traceId: 'nope' }), 404, /Agent airline has no trace nope/],
      ['foreign trace', await suggest('rita', { traceId: 'elsewhere' }), 404, /has no trace elsewhere/],
      ['step too far', await suggest('rita', { traceId: 'move', step: 9 }), 400, /steps 0-2/],
      ['neither', await suggest('rita', {}), 400, /either traceId .* or messages/],
      [
        'both',
        await suggest('rita', { traceId: 'move', messages: [{ role: 'user', content: 'x' }] }),
        400,
        /either traceId/,
      ],
      [
        'no request',
        await suggest('rita', { messages: [{ role: 'assistant', content: 'Hello' }] }),
        400,
        /No user turn comes before the conversation/,
      ],
    ];
    for (const [what, res, status, message] of cases) {
      assert.equal(res.status, status, `${what}: ${JSON.stringify(res.json)}`);
      assert.match(res.json.error, message, what);
    }
  });

  it("coaching from-item takes the model's situation when none is given, over HTTP and the CLI", async () => {
    await db
      .insertInto('cycles')
      .values({
        id: 'c-situation',
        agent_id: 'airline',
        run_id: 'c-situation-run',
        stage: 'awaiting_annotation',
        outcome: 'running',
        window_start: new Date(Date.now() - 7 * 86_400_000),
        window_end: new Date(),
        input: '{}',
      })
      .execute();
    await db
      .insertInto('annotation_queues')
      .values({
        id: annotationQueueId('c-situation'),
        agent_id: 'airline',
        cycle_id: 'c-situation',
        name: 'airline review',
        reviewers_per_item: 1,
        quorum: 1,
        claim_seconds: 600,
        status: 'open',
      })
      .execute();
    const added = await call('rita', 'POST', `/api/queues/${annotationQueueId('c-situation')}/items`, {
      traceId: 'move',
    });
    assert.equal(added.status, 201, JSON.stringify(added.json));
    const item = added.json.itemId as string;
    await db
      .insertInto('annotations')
      .values({
        item_id: item,
        reviewer: 'rita',
        verdict: 'fail',
        expected: JSON.stringify({ action: 'respond', arguments: {}, content: REPLY }),
      })
      .execute();
    const created = await call('rita', 'POST', `/api/items/${item}/coaching`, {});
    assert.equal(created.status, 201, JSON.stringify(created.json));
    assert.equal((created.json.coaching as { situation: string }).situation, MOVE_SITUATION);
    assert.equal(created.json.suggestedSituation, MOVE_SITUATION);
    assert.equal(created.json.suggestionSource, 'model');
    const own = await call('rita', 'POST', `/api/items/${item}/coaching`, {
      situation: 'When a customer with a basic-economy ticket wants another flight',
    });
    assert.equal(own.status, 201, JSON.stringify(own.json));
    assert.equal(
      (own.json.coaching as { situation: string }).situation,
      'When a customer with a basic-economy ticket wants another flight',
    );
    assert.equal(own.json.suggestionSource, 'template', 'no model call for a situation given');

    const env: NodeJS.ProcessEnv = {
      ...process.env,
      DATABASE_URL: database.url,
      XDG_CONFIG_HOME: path.join(
        mkdtempSync(path.join(tmpdir(), 'flywheel-coaching-situation-cli-')),
        'config',
      ),
      FLYWHEEL_LLM_BASE_URL: sim.url,
      FLYWHEEL_LLM_API_KEY: 'test',
      FLYWHEEL_AGENT_MODEL: SIMULATED_MODELS.agent,
      FLYWHEEL_JUDGE_MODEL: SIMULATED_MODELS.judge,
      FLYWHEEL_TEACHER_MODEL: SIMULATED_MODELS.teacher,
    };
    delete env.FLYWHEEL_EMBEDDER_MODEL;
    const flywheel = async (who: string, ...args: string[]) =>
      (
        await promisify(execFile)(
          path.join(ROOT, 'node_modules/.bin/tsx'),
          ['scripts/flywheel.ts', ...args],
          {
            cwd: ROOT,
            env: { ...env, FLYWHEEL_TOKEN: tokens[who] },
          },
        )
      ).stdout;
    const shown = await flywheel('rita', 'coaching', 'suggest', 'airline', '--trace', 'move');
    assert.match(shown, new RegExp(`^${MOVE_SITUATION}\nsituation suggested by the teacher model`));
    assert.match(
      shown,
      /use it: flywheel coaching create airline --trace move --situation 'When a customer asks/,
    );
    assert.deepEqual(
      JSON.parse(
        await flywheel('rita', 'coaching', 'suggest', 'airline', '--trace', 'move', '--step', '2', '--json'),
      ),
      { situation: MOVE_SITUATION, source: 'model' },
    );
    await assert.rejects(
      flywheel('vera', 'coaching', 'suggest', 'airline', '--trace', 'move'),
      (e: { stderr?: string }) => /reviewer/.test(e.stderr ?? ''),
    );
    const fromItem = await flywheel('rita', 'coaching', 'from-item', item);
    assert.match(
      fromItem,
      new RegExp(`created coa_[0-9a-f]{12} {2}v1 {2}active +≥0.32 {2}${MOVE_SITUATION}`),
    );
    assert.match(fromItem, /situation suggested by the teacher model; edit it with --situation/);
  });
});
