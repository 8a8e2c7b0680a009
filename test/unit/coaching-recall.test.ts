import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FlywheelClient, FlywheelError, withCoaching } from '../../client/flywheel-client.js';
import {
  COACHING_PREAMBLE,
  coachingExampleMessages,
  estimateTokens,
  fewShotMessages,
  messagesTokens,
  renderBehaviour,
} from '../../coaching/coaching-messages.js';
import { buildMatrix, recall, situationQuery } from '../../coaching/coaching-recall.js';
import { localSituationEmbedder } from '../../coaching/situation-embedder.js';
import type { AgentCoachingIndex } from '../../coaching/coaching-index-service.js';
import { CoachingRecall } from '../../coaching/coaching-recall-service.js';
import { CreateCoachingRequest, DEFAULT_COACHING_THRESHOLD, RecallRequest } from '../../schemas/coaching.js';
import { AIRLINE_SCENARIO, loadScenario } from '../simulator/scenario.js';

const unit = (...xs: number[]) => xs;

describe('coaching recall: which memories a conversation is in the situation of', () => {
  it('recalls a memory at or above its own threshold and not below it', () => {
    const matrix = buildMatrix(2, [
      { vector: unit(1, 0), threshold: 0.9, tokens: 10 },
      { vector: unit(0, 1), threshold: 0.5, tokens: 10 },
    ]);
    // cos to row 0 is 0.8 (below its 0.9), cos to row 1 is 0.6 (above its 0.5).
    const hits = recall(matrix, [0.8, 0.6], { k: 5, maxTokens: 1000 });
    assert.deepEqual(
      hits.map((h) => h.row),
      [1],
    );
    assert.ok(Math.abs(hits[0]!.similarity - 0.6) < 1e-6);
  });

  it('compares directions only: the query and the situations need not be unit length', () => {
    const matrix = buildMatrix(2, [{ vector: unit(10, 0), threshold: 0.99, tokens: 1 }]);
    assert.equal(recall(matrix, [0.001, 0], { k: 1, maxTokens: 10 }).length, 1);
  });

  it('keeps the k most similar, most similar first, ties to the older memory', () => {
    const matrix = buildMatrix(2, [
      { vector: unit(1, 0.5), threshold: 0, tokens: 1 },
      { vector: unit(1, 0), threshold: 0, tokens: 1 },
      { vector: unit(1, 0.2), threshold: 0, tokens: 1 },
      { vector: unit(1, 0), threshold: 0, tokens: 1 },
    ]);
    const hits = recall(matrix, [1, 0], { k: 3, maxTokens: 100 });
    assert.deepEqual(
      hits.map((h) => h.row),
      [1, 3, 2],
    );
  });

  it('skips a memory that does not fit the token budget and keeps a smaller one after it', () => {
    const matrix = buildMatrix(1, [
      { vector: [1], threshold: 0, tokens: 60 },
      { vector: [1], threshold: 0, tokens: 50 },
      { vector: [1], threshold: 0, tokens: 30 },
    ]);
    const hits = recall(matrix, [1], { k: 3, maxTokens: 100, reservedTokens: 10 });
    // 60 fits (60 ≤ 90); 50 would make 110; 30 makes 90.
    assert.deepEqual(
      hits.map((h) => h.row),
      [0, 2],
    );
    assert.deepEqual(recall(matrix, [1], { k: 3, maxTokens: 20 }), []);
  });

  it('recalls nothing for a query of another dimension or a zero query', () => {
    const matrix = buildMatrix(2, [{ vector: unit(1, 0), threshold: 0, tokens: 1 }]);
    assert.deepEqual(recall(matrix, [1, 0, 0], { k: 1, maxTokens: 10 }), []);
    assert.deepEqual(
      recall(matrix, [0, 0], { k: 1, maxTokens: 10 }).length,
      1,
      'zero similarity ≥ threshold 0',
    );
  });

  it('refuses a situation whose vector has another dimension than the index', () => {
    assert.throws(() => buildMatrix(2, [{ vector: [1, 0, 0], threshold: 0, tokens: 1 }]), /3 dimensions/);
  });

  it('matches the last user turn, with the assistant turn it answers, never the system prompt', () => {
    assert.equal(
      situationQuery([
        { role: 'system', content: 'You are an airline agent.' },
        { role: 'user', content: 'Hi' },
        { role: 'assistant', content: 'Shall I cancel reservation ZFA04Y?' },
        { role: 'user', content: 'Yes please' },
      ]),
      'Shall I cancel reservation ZFA04Y?\nYes please',
    );
    assert.equal(
      situationQuery([
        { role: 'system', content: 'You are an airline agent.' },
        { role: 'user', content: 'Move my flight' },
        { role: 'tool', content: '{"ok":true}' },
      ]),
      'Move my flight',
    );
    assert.equal(situationQuery([{ role: 'system', content: 'Only a system prompt' }]), '');
  });
});

describe('coaching situations matched by the local embedder on the airline scenario', () => {
  const scenario = loadScenario(AIRLINE_SCENARIO);
  const requests = (rule: string) => scenario.examples.filter((e) => e.rule === rule).map((e) => e.request);
  const others = (rule: string) => scenario.examples.filter((e) => e.rule !== rule).map((e) => e.request);

  it('recalls a basic-economy change coaching for every basic-economy change request and for no other request', async () => {
    const embedder = localSituationEmbedder();
    const [situation] = await embedder.embed(['When a customer asks to move a basic-economy flight']);
    const matrix = buildMatrix(situation!.length, [
      { vector: situation!, threshold: DEFAULT_COACHING_THRESHOLD, tokens: 40 },
    ]);
    const recalled = async (text: string) =>
      recall(matrix, (await embedder.embed([text]))[0]!, { k: 3, maxTokens: 500 }).length === 1;
    for (const r of requests('basic_economy_no_changes')) assert.ok(await recalled(r), `missed: ${r}`);
    for (const r of others('basic_economy_no_changes')) assert.ok(!(await recalled(r)), `false recall: ${r}`);
  });
});

describe('coaching as few-shot messages', () => {
  it('renders each kind of behaviour as the assistant turn of the example', () => {
    assert.equal(
      renderBehaviour({ kind: 'reply', text: 'Basic economy cannot be changed.' }),
      'Basic economy cannot be changed.',
    );
    assert.equal(
      renderBehaviour({ kind: 'tool_call', tool: 'get_user_details', arguments: { user_id: 'mia_li_1222' } }),
      'Call get_user_details with {"user_id":"mia_li_1222"}',
    );
    assert.equal(
      renderBehaviour({ kind: 'ask_confirmation', text: 'Shall I book JFK to SFO on May 20?' }),
      'Ask for confirmation before acting: Shall I book JFK to SFO on May 20?',
    );
    assert.equal(
      renderBehaviour({ kind: 'transfer', reason: 'baggage claims' }),
      'Transfer to a human agent: baggage claims',
    );
  });

  it('writes an example as the situation (with its request) then the behaviour, in the cookbook form', () => {
    const messages = coachingExampleMessages({
      situation: 'When a customer asks to move a basic-economy flight',
      example: 'Please move ZFA04Y two days later.',
      behaviour: { kind: 'reply', text: 'Basic economy cannot be changed.' },
    });
    assert.deepEqual(messages, [
      {
        role: 'system',
        name: 'example_user',
        content:
          'Situation: When a customer asks to move a basic-economy flight\nPlease move ZFA04Y two days later.',
      },
      { role: 'system', name: 'example_assistant', content: 'Basic economy cannot be changed.' },
    ]);
  });

  it('puts one preamble before all examples and nothing at all when none is recalled', () => {
    const c = { situation: 'When x', example: null, behaviour: { kind: 'reply' as const, text: 'y' } };
    const messages = fewShotMessages([c, c]);
    assert.equal(messages.length, 5);
    assert.deepEqual(messages[0], { role: 'system', content: COACHING_PREAMBLE });
    assert.deepEqual(fewShotMessages([]), []);
  });

  it('estimates tokens at four characters a token plus the framing of each message', () => {
    assert.equal(estimateTokens(''), 4);
    assert.equal(estimateTokens('x'.repeat(400)), 104);
    assert.equal(
      messagesTokens([
        { role: 'system', content: 'x'.repeat(8) },
        { role: 'system', content: 'x'.repeat(4) },
      ]),
      6 + 5,
    );
  });

  it('inserts recalled messages after the system prompt, before the first turn (the client helper)', () => {
    const recalled = {
      messages: fewShotMessages([
        { situation: 'When x', example: null, behaviour: { kind: 'reply', text: 'y' } },
      ]),
    };
    const conversation = [
      { role: 'system', content: 'You are an agent.' },
      { role: 'user', content: 'hello' },
    ];
    const out = withCoaching(conversation, recalled);
    assert.deepEqual(
      out.map((m) => m.role + ('name' in m && m.name ? `:${m.name}` : '')),
      ['system', 'system', 'system:example_user', 'system:example_assistant', 'user'],
    );
    assert.equal(withCoaching([{ role: 'user', content: 'hi' }], recalled)[0]!.role, 'system');
  });
});

describe('coaching request schemas', () => {
  it('accepts the four behaviours and refuses an unknown one or an empty situation', () => {
    for (const behaviour of [
      { kind: 'reply', text: 'a' },
      { kind: 'tool_call', tool: 't', arguments: { a: 1 } },
      { kind: 'ask_confirmation', text: 'ok?' },
      { kind: 'transfer', reason: 'policy' },
    ])
      assert.ok(CreateCoachingRequest.safeParse({ situation: 'When a user asks', behaviour }).success);
    assert.ok(!CreateCoachingRequest.safeParse({ situation: 'When', behaviour: { kind: 'dance' } }).success);
    assert.ok(
      !CreateCoachingRequest.safeParse({ situation: '  ', behaviour: { kind: 'reply', text: 'a' } }).success,
    );
    assert.ok(
      !CreateCoachingRequest.safeParse({
        situation: 'When x y',
        behaviour: { kind: 'reply', text: 'a' },
        threshold: 1.5,
      }).success,
    );
  });

  it('bounds k and defaults the budget of a recall', () => {
    const parsed = RecallRequest.parse({ messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(parsed.k, 3);
    assert.equal(parsed.maxTokens, 1000);
    assert.ok(!RecallRequest.safeParse({ messages: [{ role: 'user', content: 'hi' }], k: 0 }).success);
    assert.ok(!RecallRequest.safeParse({ messages: [] }).success);
  });
});

describe('the TS client recalling coaching', () => {
  const answer = {
    agent: 'airline',
    coaching: [{ id: 'coa_0123456789ab', version: 2, similarity: 0.41, tokens: 40 }],
    messages: fewShotMessages([
      { situation: 'When x', example: null, behaviour: { kind: 'reply', text: 'y' } },
    ]),
    traceIds: ['coa_0123456789ab@2'],
  };

  it('posts the conversation with its token and reports the ids to tag the trace with', async () => {
    const seen: { url: string; init: RequestInit }[] = [];
    const client = new FlywheelClient({
      baseUrl: 'http://flywheel.test/',
      token: 'agent-token',
      fetch: (url, init) => {
        seen.push({ url: url as string, init: init ?? {} });
        return Promise.resolve(new Response(JSON.stringify(answer), { status: 200 }));
      },
    });
    const recalled = await client.recallCoaching('airline', [{ role: 'user', content: 'move my flight' }], {
      k: 2,
    });
    assert.equal(seen[0]!.url, 'http://flywheel.test/api/agents/airline/coaching/recall');
    assert.equal((seen[0]!.init.headers as Record<string, string>).authorization, 'Bearer agent-token');
    assert.deepEqual(JSON.parse(seen[0]!.init.body as string), {
      messages: [{ role: 'user', content: 'move my flight' }],
      k: 2,
    });
    assert.deepEqual(client.coachingTraceAttributes(recalled), {
      'flywheel.coaching.ids': ['coa_0123456789ab@2'],
    });
    assert.deepEqual(client.coachingTraceAttributes({ traceIds: [] }), {}, 'no tag when nothing applied');
  });

  it("raises the server's message with its status", async () => {
    const client = new FlywheelClient({
      baseUrl: 'http://flywheel.test',
      fetch: () => Promise.resolve(new Response(JSON.stringify({ error: 'k: too small' }), { status: 400 })),
    });
    await assert.rejects(client.recallCoaching('airline', [{ role: 'user', content: 'x' }]), (e: unknown) => {
      assert.ok(e instanceof FlywheelError);
      assert.equal(e.status, 400);
      assert.match(e.message, /k: too small/);
      return true;
    });
  });
});

describe('recall during a staged rollout that carries a coaching set', () => {
  const embedder = localSituationEmbedder();
  const memory = async (id: string, situation: string, threshold = DEFAULT_COACHING_THRESHOLD) => {
    const [vector] = await embedder.embed([situation]);
    const current = {
      situation,
      behaviour: { kind: 'reply' as const, text: `reply of ${id}` },
      example: null,
    };
    const messages = coachingExampleMessages(current);
    return {
      vector: vector!,
      memory: {
        id,
        version: 1,
        situation,
        behaviour: current.behaviour,
        threshold,
        messages,
        tokens: messagesTokens(messages),
      },
    };
  };
  const indexOf = (
    active: Awaited<ReturnType<typeof memory>>[],
    set: Awaited<ReturnType<typeof memory>>[],
  ): AgentCoachingIndex => {
    const matrixOf = (ms: typeof active) =>
      ms.length === 0
        ? null
        : buildMatrix(
            ms[0]!.vector.length,
            ms.map((m) => ({ vector: m.vector, threshold: m.memory.threshold, tokens: m.memory.tokens })),
          );
    return {
      agent: 'demo',
      mark: null,
      memories: active.map((m) => m.memory),
      matrix: matrixOf(active),
      clusters: null,
      readAt: 0,
      sets: [
        {
          rolloutId: 'r1',
          candidateVersionId: 'pv-cand',
          memories: set.map((m) => m.memory),
          matrix: matrixOf(set),
        },
      ],
    };
  };
  const ask = (recall: Pick<CoachingRecall, 'recall'>, promptVersionId?: string, k = 3) =>
    recall.recall('demo', {
      messages: [{ role: 'user', content: 'Can I move my basic economy flight to Friday?' }],
      k,
      maxTokens: 1000,
      ...(promptVersionId ? { promptVersionId } : {}),
    });

  it('adds the set only for conversations served the rollout candidate version', async () => {
    const active = await memory('coa_active', 'When a customer wants to move a flight to another day', 0.05);
    const candidate = await memory('coa_set', 'When a customer asks to move a basic economy flight');
    const index = indexOf([active], [candidate]);
    const recall = new CoachingRecall({ embedder, get: () => Promise.resolve(index) });
    const candidateShare = await ask(recall, 'pv-cand');
    assert.deepEqual(candidateShare.traceIds.sort(), ['coa_active@1', 'coa_set@1']);
    assert.deepEqual((await ask(recall, 'pv-prod')).traceIds, ['coa_active@1'], 'production share');
    assert.deepEqual((await ask(recall)).traceIds, ['coa_active@1'], 'no version named');
    // k applies to both together: the more similar memory wins, wherever it comes from.
    const one = await ask(recall, 'pv-cand', 1);
    const best = candidateShare.coaching.reduce((a, b) => (b.similarity > a.similarity ? b : a));
    assert.deepEqual(one.traceIds, [`${best.id}@1`]);
  });

  it('recalls a set for an agent with no active coaching, and nothing below the set memory threshold', async () => {
    const candidate = await memory('coa_set', 'When a customer asks to move a basic economy flight');
    const unrelated = await memory('coa_bags', 'When a customer asks about checked bag fees');
    const index = indexOf([], [candidate, unrelated]);
    const recall = new CoachingRecall({ embedder, get: () => Promise.resolve(index) });
    assert.deepEqual((await ask(recall, 'pv-cand')).traceIds, ['coa_set@1']);
    assert.deepEqual((await ask(recall, 'pv-prod')).traceIds, []);
  });
});
