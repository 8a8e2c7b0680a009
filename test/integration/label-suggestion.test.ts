import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client } from '@temporalio/client';
import { apiDeps, startApiServer, type ApiServer } from '../../api/http-server.js';
import { suggestLabel } from '../../annotation/label-suggestion-service.js';
import { annotationQueueId } from '../../annotation/annotation-ids.js';
import type { Db } from '../../db/connection.js';
import type { LlmClient } from '../../llm/llm-client.js';
import { createAgentToken } from '../../registry/store/agent-tokens.js';
import { writeQueueTemplate } from '../../scripts/queue-commands.js';
import { personWithToken } from '../helpers/api-credentials.js';
import { simulatedRoles } from '../helpers/simulated-roles.js';
import { startTestDatabase } from '../helpers/test-stack.js';
import { AIRLINE_SCENARIO, loadScenario, scenarioTools } from '../simulator/scenario.js';
import { SIMULATED_MODELS, startSimulator, type SimulatorServer } from '../simulator/simulator-server.js';
import { callApi } from '../helpers/api-call.js';

const scenario = loadScenario(AIRLINE_SCENARIO);
const example = (id: string) => scenario.examples.find((e) => e.id === id)!;
const QUEUE = annotationQueueId('c-suggest');

interface Json {
  [key: string]: unknown;
}

/**
 * A label suggested by the teacher model for a review item, over HTTP on real Postgres with
 * the simulator as the model: it names the step the agent should have taken in a form the
 * label check accepts (a reply, or a call of one of the agent's tools), it is asked once and
 * kept for every reviewer, a reviewer taking it stores an ordinary label and the queue counts
 * how often labels equal their suggestion; without a usable model answer there is none,
 * with the reason, and nothing is kept. Viewers, other agents' reviewers and unknown items
 * are refused.
 */
describe('label suggestions by the teacher model on real Postgres', () => {
  let database: { db: Db; teardown(): Promise<void> };
  let db: Db;
  let api: ApiServer;
  /** No model configured. */
  let bare: ApiServer;
  /** A teacher whose every call fails. */
  let broken: ApiServer;
  let sim: SimulatorServer;
  const headers: Record<string, Record<string, string>> = {};
  const items: Record<string, string> = {};

  const call = (who: string, method: string, url: string, body?: unknown, server = api) =>
    callApi<Json & { error: string }>(server.url, headers[who], method, url, body);
  const suggest = (who: string, item: string, server = api) =>
    call(who, 'POST', `/api/items/${item}/suggestion`, {}, server);
  /** The suggestion kept for the named item, as rows (empty: none is kept). */
  const keptFor = (name: string) =>
    db.selectFrom('label_suggestions').select('item_id').where('item_id', '=', items[name]!).execute();
  const teacherCalls = (since: number) =>
    sim.requests.slice(since).filter((r) => r.model === SIMULATED_MODELS.teacher).length;

  /** A trace of the example's request where the agent took `output`, queued for review. */
  const queued = async (id: string, request: string, output: Json) => {
    const res = await fetch(`${api.url}/api/traces`, {
      method: 'POST',
      headers: { ...headers['agent'], 'content-type': 'application/json' },
      body: JSON.stringify({
        id,
        agent: 'airline',
        timestamp: new Date().toISOString(),
        input: {
          messages: [
            { role: 'system', content: scenario.basePrompt },
            { role: 'user', content: request },
          ],
        },
        output,
      }),
    });
    assert.equal(res.status, 200, await res.text());
    const added = await call('rita', 'POST', `/api/queues/${QUEUE}/items`, { traceId: id });
    assert.equal(added.status, 201, JSON.stringify(added.json));
    items[id] = added.json.itemId as string;
  };

  before(async () => {
    database = await startTestDatabase();
    db = database.db;
    await db
      .insertInto('agents')
      .values([
        { id: 'airline', config: JSON.stringify({ tools: scenarioTools(scenario) }) },
        { id: 'other', config: JSON.stringify({}) },
      ])
      .execute();
    sim = await startSimulator(scenario, 0);
    const roles = { ...simulatedRoles(sim.url, db), embedder: null };
    api = await startApiServer(apiDeps(db, new Client(), { llm: roles }), 0);
    bare = await startApiServer(apiDeps(db, new Client()), 0);
    const failing: LlmClient = {
      model: 'failing-teacher',
      chat: () => Promise.reject(new Error('HTTP 500 from the model server')),
      embed: () => Promise.reject(new Error('no embeddings')),
    };
    broken = await startApiServer(apiDeps(db, new Client(), { llm: { ...roles, teacher: failing } }), 0);
    for (const [who, role, agent] of [
      ['rita', 'reviewer', 'airline'],
      ['ravi', 'reviewer', 'airline'],
      ['vera', 'viewer', 'airline'],
      ['stranger', 'reviewer', 'other'],
      ['gloria', 'reviewer', null],
    ] as const)
      headers[who] = (await personWithToken(db, who, role, agent)).headers;
    const token = await createAgentToken(db, { agent: 'airline', scopes: ['ingest'], createdBy: 'test' });
    headers['agent'] = { authorization: `Bearer ${token.token}` };
    await db
      .insertInto('cycles')
      .values({
        id: 'c-suggest',
        agent_id: 'airline',
        run_id: 'c-suggest-run',
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
        id: QUEUE,
        agent_id: 'airline',
        cycle_id: 'c-suggest',
        name: 'airline review',
        reviewers_per_item: 1,
        quorum: 1,
        claim_seconds: 600,
        status: 'open',
      })
      .execute();
    // The agent moved a basic-economy flight (the right step is a reply saying it cannot be
    // changed), and answered a damaged-bag claim itself (it should have transferred).
    await queued('move', example('ex-001').request, {
      action: 'update_reservation_flights',
      arguments: { reservation_id: 'ZFA04Y' },
    });
    await queued('bag', example('ex-004').request, {
      action: 'respond',
      content: 'Sorry about your bag, I have noted the claim.',
    });
    await queued('claim', example('ex-010').request, { action: 'respond', content: 'Noted.' });
  });
  after(async () => {
    await api?.close();
    await bare?.close();
    await broken?.close();
    await sim?.close();
    await database?.teardown();
  });

  it("suggests the corrected reply or tool call, asks the model once per item, and a reviewer's label taking it is stored and counted", async () => {
    const asked = sim.requests.length;
    const move = await suggest('rita', items['move']!);
    assert.equal(move.status, 200, JSON.stringify(move.json));
    const suggestion = move.json.suggestion as Json;
    assert.equal(move.json.unavailable, null);
    assert.equal(suggestion.verdict, 'fail');
    assert.equal(suggestion.category, 'policy_violation');
    assert.deepEqual(suggestion.expected, {
      action: 'respond',
      arguments: {},
      content: example('ex-001').reply,
    });
    assert.match(String(suggestion.reason), /basic economy/i);
    assert.equal(suggestion.model, SIMULATED_MODELS.teacher);
    assert.equal(teacherCalls(asked), 1);

    const bag = await suggest('rita', items['bag']!);
    assert.equal(bag.status, 200, JSON.stringify(bag.json));
    assert.deepEqual((bag.json.suggestion as Json).expected, {
      action: 'transfer_to_human_agents',
      arguments: example('ex-004').expected.arguments,
    });

    // Kept: another reviewer (and a second opening) sees the same one without a model call.
    const before = sim.requests.length;
    const again = await suggest('ravi', items['move']!);
    assert.deepEqual(again.json, move.json);
    assert.equal(teacherCalls(before), 0);

    // Taking it: the suggestion as the label, which the label check accepts as it is.
    for (const [who, item] of [
      ['rita', 'bag'],
      ['ravi', 'move'],
    ] as const) {
      const claimed = await call(who, 'POST', `/api/items/${items[item]}/claim`, {});
      assert.equal(claimed.status, 200, JSON.stringify(claimed.json));
    }
    const taken = await call('rita', 'POST', `/api/items/${items['bag']}/annotations`, {
      verdict: 'fail',
      category: (bag.json.suggestion as Json).category,
      expected: (bag.json.suggestion as Json).expected,
    });
    assert.equal(taken.status, 200, JSON.stringify(taken.json));
    // A reviewer of their own mind: the same verdict and category, another reply.
    const own = await call('ravi', 'POST', `/api/items/${items['move']}/annotations`, {
      verdict: 'fail',
      category: 'policy_violation',
      expected: { action: 'respond', arguments: {}, content: 'That fare cannot be moved, sorry.' },
    });
    assert.equal(own.status, 200, JSON.stringify(own.json));
    const queue = await call('rita', 'GET', `/api/queues/${QUEUE}`);
    assert.deepEqual(queue.json.suggestions, {
      labelled: 2,
      taken: 1,
      byReviewer: { rita: { labelled: 1, taken: 1 }, ravi: { labelled: 1, taken: 0 } },
    });
  });

  it('has no suggestion, says why and keeps nothing when no model is configured or the model fails', async () => {
    const none = await suggest('rita', items['claim']!, bare);
    assert.equal(none.status, 200, JSON.stringify(none.json));
    assert.equal(none.json.suggestion, null);
    assert.match(String(none.json.unavailable), /no teacher model is configured/);
    const failed = await suggest('rita', items['claim']!, broken);
    assert.equal(failed.status, 200, JSON.stringify(failed.json));
    assert.equal(failed.json.suggestion, null);
    assert.match(String(failed.json.unavailable), /the teacher model failed: HTTP 500 from the model server/);
    assert.deepEqual(await keptFor('claim'), [], 'nothing kept: the next opening asks again');
    const later = await suggest('rita', items['claim']!);
    assert.equal((later.json.suggestion as Json | null)?.verdict, 'fail', JSON.stringify(later.json));
  });

  it('gives up on a model that does not answer in time, aborting its call, and keeps nothing', async () => {
    let aborted = false;
    const hanging: LlmClient = {
      model: 'hanging-teacher',
      chat: (_request, signal) =>
        new Promise((_, reject) =>
          signal?.addEventListener('abort', () => {
            aborted = true;
            reject(new Error('aborted'));
          }),
        ),
      embed: () => Promise.reject(new Error('no embeddings')),
    };
    await queued('slow', example('ex-016').request, { action: 'respond', content: 'Done.' });
    const answer = await suggestLabel({ db, teacher: hanging }, items['slow']!, 'rita', { timeoutMs: 50 });
    assert.deepEqual(answer, {
      suggestion: null,
      unavailable: 'the teacher model did not answer within 0 s',
    });
    assert.ok(aborted, 'the model call is aborted, not left running');
    assert.deepEqual(await keptFor('slow'), []);
  });

  it('counts only labels stored after the suggestion, and forgets a kept call the tools no longer accept', async () => {
    const counted = async () => (await call('rita', 'GET', `/api/queues/${QUEUE}`)).json.suggestions as Json;
    const before = await counted();
    // Labelled before anyone asked for a suggestion: it cannot have taken one.
    await queued('early', example('ex-022').request, { action: 'respond', content: 'Sure.' });
    assert.equal((await call('ravi', 'POST', `/api/items/${items['early']}/claim`, {})).status, 200);
    const early = await call('ravi', 'POST', `/api/items/${items['early']}/annotations`, { verdict: 'pass' });
    assert.equal(early.status, 200, JSON.stringify(early.json));
    // The item is complete, so none is asked for now; one asked before the label and stored
    // after it (the model was slow) is as late as this one, and equals the label.
    assert.equal((await suggest('rita', items['early']!)).json.unavailable, 'the item needs no more labels');
    await db
      .insertInto('label_suggestions')
      .values({ item_id: items['early']!, verdict: 'pass', reason: 'Right step.', model: 'slow-teacher' })
      .execute();
    assert.deepEqual(await counted(), before);

    // A transfer suggested, then the agent loses the transfer tool: the kept call would be
    // refused on submit, so it is forgotten and asked again (and the simulated teacher's
    // transfer now fails the check, twice).
    await queued('bag2', example('ex-004').request, { action: 'respond', content: 'Noted, thanks.' });
    const first = await suggest('rita', items['bag2']!);
    assert.equal(
      (first.json.suggestion as Json).expected && ((first.json.suggestion as Json).expected as Json).action,
      'transfer_to_human_agents',
    );
    const tools = scenarioTools(scenario);
    await db
      .updateTable('agents')
      .set({ config: JSON.stringify({ tools: tools.filter((t) => t.name !== 'transfer_to_human_agents') }) })
      .where('id', '=', 'airline')
      .execute();
    try {
      const again = await suggest('rita', items['bag2']!);
      assert.equal(again.json.suggestion, null, JSON.stringify(again.json));
      assert.match(
        String(again.json.unavailable),
        /"transfer_to_human_agents" is not one of the agent's tools/,
      );
      assert.deepEqual(await keptFor('bag2'), []);
    } finally {
      await db
        .updateTable('agents')
        .set({ config: JSON.stringify({ tools }) })
        .where('id', '=', 'airline')
        .execute();
    }
  });

  it('refuses a viewer, another agent’s reviewer and one the annotation policy leaves out (no model call), answers 404 for an unknown item and gives none on a closed queue', async () => {
    assert.equal((await suggest('vera', items['move']!)).status, 403);
    const stranger = await suggest('stranger', items['move']!);
    assert.equal(stranger.status, 403, JSON.stringify(stranger.json));
    const unknown = await suggest('gloria', 'item-nope');
    assert.equal(unknown.status, 404);
    assert.match(unknown.json.error, /item-nope/);

    // The agent's labels come from rita alone: ravi, a reviewer of the agent, may not label,
    // so asking for him spends no model call; rita still gets hers.
    await queued('policy', example('ex-010').request, { action: 'respond', content: 'Fine.' });
    const config = (reviewers: string[]) =>
      JSON.stringify({ tools: scenarioTools(scenario), annotation: { reviewers } });
    await db
      .updateTable('agents')
      .set({ config: config(['rita']) })
      .where('id', '=', 'airline')
      .execute();
    try {
      const asked = sim.requests.length;
      const ravi = await suggest('ravi', items['policy']!);
      assert.equal(ravi.status, 403, JSON.stringify(ravi.json));
      assert.match(ravi.json.error, /ravi is not a reviewer of agent airline \(reviewers: rita\)/);
      assert.equal(sim.requests.length, asked, 'no model call for someone who may not label');
      const rita = await suggest('rita', items['policy']!);
      assert.equal(rita.status, 200, JSON.stringify(rita.json));
      assert.notEqual(rita.json.suggestion, null, JSON.stringify(rita.json));
    } finally {
      await db
        .updateTable('agents')
        .set({ config: config([]) })
        .where('id', '=', 'airline')
        .execute();
    }

    // A closed queue takes no labels, so its open items get no suggestion (and no call).
    await queued('closed', example('ex-004').request, { action: 'respond', content: 'Okay.' });
    await db.updateTable('annotation_queues').set({ status: 'closed' }).where('id', '=', QUEUE).execute();
    try {
      const asked = sim.requests.length;
      const closed = await suggest('rita', items['closed']!);
      assert.equal(closed.status, 200, JSON.stringify(closed.json));
      assert.equal(closed.json.suggestion, null);
      assert.equal(closed.json.unavailable, 'the queue is closed; it takes no more labels');
      assert.equal(sim.requests.length, asked);
    } finally {
      await db.updateTable('annotation_queues').set({ status: 'open' }).where('id', '=', QUEUE).execute();
    }
  });

  it("`queue show --template --suggest` prefills the failed items with the teacher's suggestions, in labels the API takes", async () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'flywheel-suggest-template-')), 'labels.json');
    const teacher = simulatedRoles(sim.url, db).teacher;
    const written = await writeQueueTemplate(db, QUEUE, file, { reviewer: 'gloria', suggest: { teacher } });
    const template = JSON.parse(readFileSync(file, 'utf8')) as {
      labels: { itemId: string; verdict: string; category?: string; expected?: unknown; context: Json }[];
    };
    assert.equal(template.labels.length, written);
    const kept = new Map(
      (await db.selectFrom('label_suggestions').selectAll().execute()).map((r) => [r.item_id, r]),
    );
    const open = template.labels.filter((l) => kept.has(l.itemId));
    assert.ok(open.length >= 2, JSON.stringify(template.labels.map((l) => l.itemId)));
    for (const label of open) {
      const s = kept.get(label.itemId)!;
      assert.equal(label.verdict, s.verdict);
      assert.equal(label.category ?? null, s.category);
      assert.deepEqual(label.expected ?? null, s.expected);
      assert.deepEqual(label.context.suggested, { by: s.model, reason: s.reason });
      // Each is a label the API stores as it is (but the last: a complete queue would signal
      // its cycle's workflow, which this test does not run).
      if (label === open.at(-1)) continue;
      assert.equal((await call('gloria', 'POST', `/api/items/${label.itemId}/claim`, {})).status, 200);
      const { itemId: _id, context: _context, ...body } = label;
      const stored = await call('gloria', 'POST', `/api/items/${label.itemId}/annotations`, body);
      assert.equal(stored.status, 200, JSON.stringify(stored.json));
    }
  });
});
