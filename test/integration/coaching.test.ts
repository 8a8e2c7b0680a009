import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { Client } from '@temporalio/client';
import { apiDeps, startApiServer, type ApiServer } from '../../api/http-server.js';
import { CoachingIndexes } from '../../coaching/coaching-index-service.js';
import { CoachingRecall } from '../../coaching/coaching-recall-service.js';
import { localSituationEmbedder } from '../../coaching/situation-embedder.js';
import type { Db } from '../../db/connection.js';
import { RecallRequest } from '../../schemas/coaching.js';
import { createAgentToken } from '../../registry/store/agent-tokens.js';
import { readTrace } from '../../traces/store/trace-reader.js';
import { personWithToken } from '../helpers/api-credentials.js';
import { simulatedRoles } from '../helpers/simulated-roles.js';
import { startTestDatabase } from '../helpers/test-stack.js';
import { AIRLINE_SCENARIO, loadScenario, scenarioTools } from '../simulator/scenario.js';
import { SIMULATED_MODELS, startSimulator, type SimulatorServer } from '../simulator/simulator-server.js';
import { callApi } from '../helpers/api-call.js';

const ROOT = path.resolve(import.meta.dirname, '../..');

const scenario = loadScenario(AIRLINE_SCENARIO);
const request = (id: string) => scenario.examples.find((e) => e.id === id)!.request;
const MOVE_BASIC_ECONOMY = request('ex-001');
const MOVE_BASIC_ECONOMY_OTHER = request('ex-007');
const CANCEL = request('ex-002');
const DAMAGED_BAG = request('ex-004');

interface Coaching {
  id: string;
  version: number;
  status: string;
  situation: string;
  example: string | null;
  sourceTraceId: string | null;
  sourceStep: number | null;
  updatedBy: string;
}
interface Answer {
  error: string;
  coaching: Coaching & { id: string; version: number }[];
  messages: { role: string; name?: string; content: string }[];
  traceIds: string[];
  versions: { version: number; current: boolean; status: string; createdBy: string }[];
  data: Coaching[];
  before: { action: string };
  after: { action: string; content?: string };
  changed: boolean;
  change: { from: number | null; to: number | null; actor: string };
  from: number;
  to: number;
  version: number;
  artifacts: { kind: string; name: string | null; current: number | null }[];
}

/**
 * Coaching over HTTP on real Postgres: a reviewer saves a correction from a trace step, the
 * agent recalls it (with its resolve token) only in conversations of its situation, a test
 * re-runs the step through the (simulated) agent model, retire and a rollback of that one
 * coaching change what is recalled and nothing else, and a trace keeps the ids it reports.
 */
describe('coaching memories over HTTP on real Postgres', () => {
  let database: { db: Db; url: string; teardown(): Promise<void> };
  let db: Db;
  let api: ApiServer;
  let sim: SimulatorServer;
  const headers: Record<
    'rita' | 'otto' | 'vera' | 'stranger' | 'agent',
    Record<string, string>
  > = {} as never;
  const tokens: Record<string, string> = {};
  let moveCoaching = '';

  const call = (who: keyof typeof headers, method: string, path: string, body?: unknown) =>
    callApi<Answer>(api.url, headers[who], method, path, body);
  const recall = (text: string, extra: Record<string, unknown> = {}) =>
    call('agent', 'POST', '/api/agents/airline/coaching/recall', {
      messages: [
        { role: 'system', content: scenario.basePrompt },
        { role: 'user', content: text },
      ],
      ...extra,
    });
  const coachingRows = async () =>
    Number(
      (
        await db
          .selectFrom('coaching')
          .select((eb) => eb.fn.countAll().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );

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
    // The agent model answers `test`; situations embed locally (no embedder), as with zero setup.
    api = await startApiServer(
      apiDeps(db, new Client(), { llm: { ...simulatedRoles(sim.url, db), embedder: null } }),
      0,
    );
    for (const [who, role] of [
      ['rita', 'reviewer'],
      ['otto', 'operator'],
    ] as const) {
      const person = await personWithToken(db, who, role, 'airline');
      headers[who] = person.headers;
      tokens[who] = person.token;
    }
    const vera = await personWithToken(db, 'vera', 'viewer');
    headers.vera = vera.headers;
    tokens.vera = vera.token;
    headers.stranger = (await personWithToken(db, 'stranger', 'reviewer', 'other')).headers;
    const token = await createAgentToken(db, {
      agent: 'airline',
      scopes: ['ingest', 'resolve'],
      createdBy: 'test',
    });
    headers.agent = { authorization: `Bearer ${token.token}` };
    const prompt = await call('otto', 'POST', '/api/prompts', {
      name: 'airline',
      type: 'text',
      prompt: scenario.basePrompt,
      labels: ['production'],
    });
    assert.equal(prompt.status, 201, JSON.stringify(prompt.json));
    // The production trace the reviewer corrects: the agent moved a basic-economy flight.
    const line = JSON.stringify({
      id: 'trace-move-basic-economy',
      agent: 'airline',
      timestamp: '2026-12-01T10:00:00Z',
      input: { messages: [{ role: 'user', content: MOVE_BASIC_ECONOMY }] },
      output: { action: 'update_reservation_flights', arguments: { reservation_id: 'ZFA04Y' } },
    });
    const ingested = await fetch(`${api.url}/api/traces`, {
      method: 'POST',
      headers: headers.agent,
      body: line,
    });
    assert.equal(ingested.status, 200, await ingested.text());
  });
  after(async () => {
    await api?.close();
    await sim?.close();
    await database?.teardown();
  });

  it('saves a correction from a trace step with its author from authentication, and recalls it only in its situation', async () => {
    const created = await call('rita', 'POST', '/api/agents/airline/coaching', {
      situation: 'When a customer asks to move a basic-economy flight',
      behaviour: {
        kind: 'reply',
        text: 'I am sorry, but basic economy flights cannot be modified. I can help you cancel if the reservation is eligible.',
      },
      sourceTraceId: 'trace-move-basic-economy',
    });
    assert.equal(created.status, 201, JSON.stringify(created.json));
    const coaching = (created.json as unknown as { coaching: Coaching }).coaching;
    moveCoaching = coaching.id;
    assert.match(coaching.id, /^coa_[0-9a-f]{12}$/);
    assert.equal(coaching.version, 1);
    assert.equal(coaching.status, 'active');
    assert.equal(coaching.updatedBy, 'user:rita');
    assert.equal(coaching.sourceTraceId, 'trace-move-basic-economy');
    assert.equal(coaching.sourceStep, 1, 'the decision after the one user message');
    assert.equal(coaching.example, MOVE_BASIC_ECONOMY, 'the request the correction was written on');

    const hit = await recall(MOVE_BASIC_ECONOMY_OTHER);
    assert.equal(hit.status, 200, JSON.stringify(hit.json));
    assert.deepEqual(
      hit.json.coaching.map((c) => [c.id, c.version]),
      [[moveCoaching, 1]],
    );
    assert.deepEqual(hit.json.traceIds, [`${moveCoaching}@1`]);
    assert.deepEqual(
      hit.json.messages.map((m) => m.name ?? m.role),
      ['system', 'example_user', 'example_assistant'],
    );
    assert.match(hit.json.messages[2]!.content, /cannot be modified/);

    const miss = await recall(CANCEL);
    assert.equal(miss.status, 200);
    assert.deepEqual(miss.json.coaching, []);
    assert.deepEqual(miss.json.messages, []);
    // A budget too small for the coaching recalls nothing rather than part of it.
    assert.deepEqual((await recall(MOVE_BASIC_ECONOMY_OTHER, { maxTokens: 20 })).json.coaching, []);
  });

  it('tests a coaching: the step re-run by the agent model without it and with it', async () => {
    const tested = await call('rita', 'POST', `/api/agents/airline/coaching/${moveCoaching}/test`, {});
    assert.equal(tested.status, 200, JSON.stringify(tested.json));
    assert.equal(tested.json.before.action, 'update_reservation_flights');
    assert.equal(tested.json.after.action, 'respond');
    assert.match(tested.json.after.content ?? '', /cannot be modified/);
    assert.equal(tested.json.changed, true);
  });

  it('retires one coaching and rolls it back on its own, leaving the prompt and the other coaching as they were', async () => {
    const transfer = await call('rita', 'POST', '/api/agents/airline/coaching', {
      situation: 'When a customer wants to file a claim for a damaged bag',
      behaviour: { kind: 'transfer', reason: 'damaged baggage claim' },
      // Claims are worded many ways: this one is recalled from a lower similarity (0.28-0.30
      // on the scenario's claims, below 0.1 on everything else).
      threshold: 0.2,
    });
    assert.equal(transfer.status, 201);
    const transferId = (transfer.json as unknown as { coaching: Coaching }).coaching.id;
    assert.deepEqual(
      (await recall(DAMAGED_BAG)).json.coaching.map((c) => c.id),
      [transferId],
    );

    const retired = await call('rita', 'POST', `/api/agents/airline/coaching/${moveCoaching}/retire`, {
      reason: 'policy changed',
    });
    assert.equal(retired.status, 200, JSON.stringify(retired.json));
    assert.deepEqual((await recall(MOVE_BASIC_ECONOMY_OTHER)).json.coaching, []);
    const again = await call('rita', 'POST', `/api/agents/airline/coaching/${moveCoaching}/retire`, {
      reason: 'twice',
    });
    assert.equal(again.status, 409);
    assert.match(again.json.error, /retired already/);

    // Rolling back is an operator's move, as for every artifact.
    const byReviewer = await call('rita', 'POST', `/api/agents/airline/coaching/${moveCoaching}/rollback`, {
      reason: 'undo',
    });
    assert.equal(byReviewer.status, 403);
    const rolled = await call('otto', 'POST', `/api/agents/airline/coaching/${moveCoaching}/rollback`, {
      reason: 'the policy change was reverted',
    });
    assert.equal(rolled.status, 200, JSON.stringify(rolled.json));
    assert.deepEqual([rolled.json.change.from, rolled.json.change.to], [2, 1]);
    assert.equal(rolled.json.change.actor, 'user:otto');
    assert.deepEqual(
      (await recall(MOVE_BASIC_ECONOMY_OTHER)).json.traceIds,
      [`${moveCoaching}@1`],
      'version 1 is recalled again',
    );

    const shown = await call('vera', 'GET', `/api/agents/airline/coaching/${moveCoaching}`);
    assert.deepEqual(
      shown.json.versions.map((v) => [v.version, v.status, v.current, v.createdBy]),
      [
        [1, 'active', true, 'user:rita'],
        [2, 'retired', false, 'user:rita'],
      ],
    );
    const other = await call('vera', 'GET', `/api/agents/airline/coaching/${transferId}`);
    assert.deepEqual(
      other.json.versions.map((v) => v.version),
      [1],
      'the other coaching did not move',
    );
    const production = await call('vera', 'GET', '/api/prompts/airline?label=production');
    assert.equal(production.json.version, 1, 'the prompt did not move');
    const audit = await db
      .selectFrom('audit_log')
      .select(['action', 'actor'])
      .where('artifact', '=', `coaching:airline/${moveCoaching}`)
      .orderBy('id')
      .execute();
    assert.deepEqual(
      audit.map((a) => [a.action, a.actor]),
      [
        ['coaching.create', 'user:rita'],
        ['coaching.retire', 'user:rita'],
        ['coaching.rollback', 'user:otto'],
      ],
    );
    // The artifact listing and history know coaching like every other artifact.
    const artifacts = await call('vera', 'GET', '/api/agents/airline/artifacts');
    assert.deepEqual(
      artifacts.json.artifacts.filter((a) => a.kind === 'coaching').map((a) => [a.name, a.current]),
      [
        [moveCoaching, 1],
        [transferId, 1],
      ],
    );
    const history = await call(
      'vera',
      'GET',
      `/api/agents/airline/artifacts/coaching/history?name=${moveCoaching}`,
    );
    assert.equal(history.status, 200, JSON.stringify(history.json));
    assert.deepEqual(
      history.json.versions.map((v) => v.current),
      [true, false],
    );
    const listed = await call('vera', 'GET', '/api/agents/airline/coaching?status=active');
    assert.deepEqual(
      listed.json.data.map((c) => c.id),
      [moveCoaching, transferId],
    );
  });

  it("reaches another API process's recall index on its next refresh", async () => {
    const other = await startApiServer(apiDeps(db, new Client(), { routingRefreshMs: 100 }), 0);
    try {
      const recallThere = async () => {
        const res = await fetch(`${other.url}/api/agents/airline/coaching/recall`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...headers.agent },
          body: JSON.stringify({
            messages: [{ role: 'user', content: 'Can my cat fly in the cabin with me?' }],
          }),
        });
        return ((await res.json()) as Answer).coaching.map((c) => c.id);
      };
      assert.deepEqual(await recallThere(), [], 'the other process has built its index');
      const created = await call('rita', 'POST', '/api/agents/airline/coaching', {
        situation: 'When a customer asks whether a cat can fly in the cabin',
        behaviour: { kind: 'reply', text: 'Cats up to 8 kg fly in the cabin in a carrier.' },
      });
      const id = (created.json as unknown as { coaching: Coaching }).coaching.id;
      // Not a speed check: the index refreshes every 100 ms; the bound only ends a broken wait.
      let seen: string[] = [];
      for (let attempt = 0; attempt < 100 && !seen.includes(id); attempt++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        seen = await recallThere();
      }
      assert.deepEqual(seen, [id]);
      const retired = await call('rita', 'POST', `/api/agents/airline/coaching/${id}/retire`, {
        reason: 'cats are out of scope',
      });
      assert.equal(retired.status, 200);
      for (let attempt = 0; attempt < 100 && seen.includes(id); attempt++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        seen = await recallThere();
      }
      assert.deepEqual(seen, [], 'the retirement reached it too');
    } finally {
      await other.close();
    }
  });

  it('works from the CLI: create, list, show, test, retire, and roll back through flywheel rollback', async () => {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      DATABASE_URL: database.url,
      XDG_CONFIG_HOME: path.join(mkdtempSync(path.join(tmpdir(), 'flywheel-coaching-cli-')), 'config'),
      FLYWHEEL_LLM_BASE_URL: sim.url,
      FLYWHEEL_LLM_API_KEY: 'test',
      FLYWHEEL_AGENT_MODEL: SIMULATED_MODELS.agent,
      FLYWHEEL_JUDGE_MODEL: SIMULATED_MODELS.judge,
      FLYWHEEL_TEACHER_MODEL: SIMULATED_MODELS.teacher,
    };
    delete env.FLYWHEEL_TOKEN;
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
    const fails = (promise: Promise<unknown>, message: RegExp) =>
      assert.rejects(promise, (e: { code?: number; stderr?: string }) => {
        assert.equal(e.code, 1);
        assert.match(e.stderr ?? '', message);
        return true;
      });

    const created = await flywheel(
      'rita',
      'coaching',
      'create',
      'airline',
      '--situation',
      'When a customer asks to move a basic-economy flight',
      '--reply',
      'Basic economy flights cannot be modified; I can check whether a cancellation is possible.',
      '--trace',
      'trace-move-basic-economy',
    );
    const id = /created (coa_[0-9a-f]{12}) {2}v1 {2}active/.exec(created)?.[1];
    assert.ok(id, created);
    assert.match(await flywheel('vera', 'coaching', 'list', 'airline'), new RegExp(`${id}  v1  active`));
    const shown = JSON.parse(await flywheel('vera', 'coaching', 'show', 'airline', id)) as {
      coaching: Coaching;
    };
    assert.equal(shown.coaching.updatedBy, 'user:rita');
    const tested = await flywheel('rita', 'coaching', 'test', 'airline', id);
    assert.match(tested, /before: update_reservation_flights/);
    assert.match(tested, /after: {2}reply: Basic economy flights cannot be modified/);
    assert.match(
      await flywheel('rita', 'coaching', 'retire', 'airline', id, '--reason', 'wrong wording'),
      new RegExp(`retired ${id}  v2  retired`),
    );
    assert.match(
      await flywheel('otto', 'rollback', 'coaching', 'airline', id, '--reason', 'wording was fine'),
      new RegExp(`airline: coaching ${id} v2 → v1`),
    );
    await fails(
      flywheel('rita', 'coaching', 'create', 'airline', '--situation', 'When x happens'),
      /Say what the agent should do: --reply/,
    );
    await fails(
      flywheel(
        'rita',
        'coaching',
        'create',
        'airline',
        '--situation',
        'When x',
        '--reply',
        'y',
        '--actor',
        'bob',
      ),
      /--actor is gone/,
    );
    await fails(flywheel('vera', 'coaching', 'retire', 'airline', id, '--reason', 'x'), /reviewer/);
  });

  it('recalls the same through IVF lists (probing them all) as by scanning every memory', async () => {
    const exact = new CoachingRecall(new CoachingIndexes(db, localSituationEmbedder()));
    const clustered = new CoachingRecall(
      new CoachingIndexes(db, localSituationEmbedder(), { clusterFrom: 1 }),
      { probes: 1_000 },
    );
    const index = await clustered.indexes.get('airline');
    assert.ok(index.clusters && index.clusters.lists > 1, 'the agent has lists');
    for (const text of [MOVE_BASIC_ECONOMY_OTHER, DAMAGED_BAG, CANCEL]) {
      const req = RecallRequest.parse({ messages: [{ role: 'user', content: text }] });
      assert.deepEqual(await clustered.recall('airline', req), await exact.recall('airline', req), text);
    }
    exact.indexes.stop();
    clustered.indexes.stop();
  });

  it('keeps the coaching ids a trace reports in flywheel.coaching.ids', async () => {
    const traceId = '5b8efff798038103d269b633813fc60c';
    const str = (key: string, value: string) => ({ key, value: { stringValue: value } });
    const body = {
      resourceSpans: [
        {
          resource: {
            attributes: [
              str('service.name', 'airline'),
              {
                key: 'flywheel.coaching.ids',
                value: { arrayValue: { values: [{ stringValue: `${moveCoaching}@1` }] } },
              },
            ],
          },
          scopeSpans: [
            {
              scope: { name: 'test' },
              spans: [
                {
                  traceId,
                  spanId: 'a000000000000001',
                  name: 'ChatCompletion',
                  kind: 3,
                  startTimeUnixNano: '1764583200000000000',
                  endTimeUnixNano: '1764583201000000000',
                  attributes: [
                    str('openinference.span.kind', 'LLM'),
                    str('llm.input_messages.0.message.role', 'user'),
                    str('llm.input_messages.0.message.content', MOVE_BASIC_ECONOMY_OTHER),
                    str('llm.output_messages.0.message.role', 'assistant'),
                    str('llm.output_messages.0.message.content', 'Basic economy flights cannot be modified.'),
                  ],
                },
              ],
            },
          ],
        },
      ],
    };
    const res = await fetch(`${api.url}/v1/traces`, {
      method: 'POST',
      headers: { ...headers.agent, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    assert.equal(res.status, 200, await res.text());
    const stored = await readTrace(db, traceId);
    assert.ok(stored, 'the trace was stored');
    assert.deepEqual(stored.attributes['flywheel.coaching.ids'], [`${moveCoaching}@1`]);
  });

  it('refuses bad input with a 4xx that says what was wrong, and stores nothing', async () => {
    const rows = await coachingRows();
    const create = (who: keyof typeof headers, body: unknown, agent = 'airline') =>
      call(who, 'POST', `/api/agents/${agent}/coaching`, body);
    const cases: [string, Awaited<ReturnType<typeof create>>, number, RegExp][] = [
      [
        'unknown behaviour',
        await create('rita', { situation: 'When x happens', behaviour: { kind: 'dance' } }),
        400,
        /behaviour/,
      ],
      [
        'empty situation',
        await create('rita', { situation: ' ', behaviour: { kind: 'reply', text: 'a' } }),
        400,
        /situation/,
      ],
      [
        'threshold above 1',
        await create('rita', {
          situation: 'When x happens',
          behaviour: { kind: 'reply', text: 'a' },
          threshold: 2,
        }),
        400,
        /threshold/,
      ],
      [
        'an author in the body',
        await create('rita', {
          situation: 'When x happens',
          behaviour: { kind: 'reply', text: 'a' },
          actor: 'someone-else',
        }),
        400,
        /credentials/,
      ],
      [
        'an unknown trace',
        await create('rita', {
          situation: 'When x happens',
          behaviour: { kind: 'reply', text: 'a' },
          sourceTraceId: 'no-such-trace',
        }),
        404,
        /no trace no-such-trace/,
      ],
      [
        'a step past the trace',
        await create('rita', {
          situation: 'When x happens',
          behaviour: { kind: 'reply', text: 'a' },
          sourceTraceId: 'trace-move-basic-economy',
          sourceStep: 9,
        }),
        400,
        /step 9/,
      ],
      ['not JSON', await call('rita', 'POST', '/api/agents/airline/coaching', '{"situation":'), 400, /JSON/],
      [
        'a viewer writing',
        await create('vera', { situation: 'When x happens', behaviour: { kind: 'reply', text: 'a' } }),
        403,
        /reviewer/,
      ],
      [
        "another agent's reviewer",
        await create('stranger', { situation: 'When x happens', behaviour: { kind: 'reply', text: 'a' } }),
        403,
        /reviewer/,
      ],
      ['recall with k 0', await recall(CANCEL, { k: 0 }), 400, /k/],
      [
        'recall without messages',
        await call('agent', 'POST', '/api/agents/airline/coaching/recall', { messages: [] }),
        400,
        /messages/,
      ],
      [
        "recall of another agent's coaching",
        await call('agent', 'POST', '/api/agents/other/coaching/recall', {
          messages: [{ role: 'user', content: 'hi' }],
        }),
        403,
        /resolve/,
      ],
      [
        'an unknown coaching',
        await call('vera', 'GET', '/api/agents/airline/coaching/coa_000000000000'),
        404,
        /no coaching coa_000000000000/,
      ],
      [
        'a rollback to a version that does not exist',
        await call('otto', 'POST', `/api/agents/airline/coaching/${moveCoaching}/rollback`, {
          to: 7,
          reason: 'x',
        }),
        400,
        /no version 7/,
      ],
      [
        'a test of a coaching without source and without messages',
        await (async () => {
          const created = await create('rita', {
            situation: 'When a customer asks about pets',
            behaviour: { kind: 'reply', text: 'Pets travel in the cabin.' },
          });
          const id = (created.json as unknown as { coaching: Coaching }).coaching.id;
          return call('rita', 'POST', `/api/agents/airline/coaching/${id}/test`, {});
        })(),
        400,
        /pass the conversation/,
      ],
    ];
    for (const [what, res, status, message] of cases) {
      assert.equal(res.status, status, `${what}: ${JSON.stringify(res.json)}`);
      assert.match(res.json.error, message, what);
    }
    assert.equal(await coachingRows(), rows + 1, 'only the coaching created on purpose was stored');
  });
});
