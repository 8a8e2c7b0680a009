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
import { normalised, dotProduct, situationQuery } from '../../coaching/coaching-recall.js';
import { localSituationEmbedder } from '../../coaching/situation-embedder.js';
import type { Db } from '../../db/connection.js';
import { createAgentToken } from '../../registry/store/agent-tokens.js';
import { personWithToken } from '../helpers/api-credentials.js';
import { startTestDatabase } from '../helpers/test-stack.js';
import { AIRLINE_SCENARIO, loadScenario, scenarioTools } from '../simulator/scenario.js';
import { callApi } from '../helpers/api-call.js';

const ROOT = path.resolve(import.meta.dirname, '../..');

const scenario = loadScenario(AIRLINE_SCENARIO);
const request = (id: string) => scenario.examples.find((e) => e.id === id)!.request;
const SITUATION = 'When a customer asks to move a basic-economy flight';
/** Requests to move a basic-economy flight (the coaching's situation) and two others. */
const MOVES = ['ex-001', 'ex-007', 'ex-013', 'ex-019', 'ex-025', 'ex-031'] as const;
const CANCEL = request('ex-002');
const DAMAGED_BAG = request('ex-004');
const DAY = 86_400_000;

interface Json {
  [key: string]: unknown;
}

/**
 * A coaching's measured effect and reviewers' marks on its applications, and a review
 * item's correction turned into coaching in one call, over HTTP and the CLI on real
 * Postgres: which traces applied it (and only those), success with it vs the similar
 * conversations without it (feedback and online judge scores, never a cycle's), marks that
 * raise its threshold above a wrongly applied recall and bring it back down when a
 * correct mark outweighs it (recall follows at once), and the coaching made from a
 * correction carrying the queue's redacted conversation.
 */
describe('coaching effect, marks and coaching from a review item on real Postgres', () => {
  let database: { db: Db; url: string; teardown(): Promise<void> };
  let db: Db;
  let api: ApiServer;
  const headers: Record<string, Record<string, string>> = {};
  const tokens: Record<string, string> = {};
  let coachingId = '';
  /** Similarity of each move request to the situation, as recall measures it. */
  const similarity = new Map<string, number>();

  const call = (who: string, method: string, url: string, body?: unknown) =>
    callApi<Json & { error: string }>(api.url, headers[who], method, url, body);
  const recalled = async (text: string) =>
    (
      (
        await call('agent', 'POST', '/api/agents/airline/coaching/recall', {
          messages: [{ role: 'user', content: text }],
        })
      ).json.coaching as { id: string }[]
    ).map((c) => c.id);
  const ingest = async (lines: object[]) => {
    const res = await fetch(`${api.url}/api/traces`, {
      method: 'POST',
      headers: { ...headers.agent, 'content-type': 'application/json' },
      body: lines.map((l) => JSON.stringify(l)).join('\n'),
    });
    assert.equal(res.status, 200, await res.text());
  };
  const trace = (
    id: string,
    text: string,
    daysAgo: number,
    extra: { feedback?: number; applied?: string[] } = {},
  ) => ({
    id,
    agent: 'airline',
    timestamp: new Date(Date.now() - daysAgo * DAY).toISOString(),
    input: {
      messages: [
        { role: 'system', content: scenario.basePrompt },
        { role: 'user', content: text },
      ],
    },
    output: { action: 'respond', content: 'Done.' },
    ...(extra.feedback === undefined ? {} : { feedback: { score: extra.feedback } }),
    ...(extra.applied === undefined ? {} : { attributes: { 'flywheel.coaching.ids': extra.applied } }),
  });
  const judge = async (traceId: string, label: 'pass' | 'fail', cycleId: string | null = null) => {
    const row = await db
      .selectFrom('traces')
      .select('started_at')
      .where('id', '=', traceId)
      .executeTakeFirstOrThrow();
    await db
      .insertInto('scores')
      .values({
        cycle_id: cycleId,
        trace_id: traceId,
        evaluator: 'judge:task_completion',
        dimension: 'task_completion',
        value: label === 'pass' ? 1 : 0,
        label,
        explanation: 'test',
        source: 'judge',
        ...(cycleId === null ? { agent_id: 'airline', trace_started_at: row.started_at } : {}),
      })
      .execute();
  };

  before(async () => {
    database = await startTestDatabase();
    db = database.db;
    const tools = scenarioTools(scenario).map((t) => ({ ...t, parameters: t.parameters }));
    await db
      .insertInto('agents')
      .values({ id: 'airline', config: JSON.stringify({ tools }) })
      .execute();
    // No models: situations and conversations embed locally, as with zero setup.
    api = await startApiServer(apiDeps(db, new Client()), 0);
    for (const [who, role, agent] of [
      ['rita', 'reviewer', 'airline'],
      ['ruth', 'reviewer', 'airline'],
      ['gina', 'reviewer', null],
      ['vera', 'viewer', 'airline'],
    ] as const) {
      const person = await personWithToken(db, who, role, agent);
      headers[who] = person.headers;
      tokens[who] = person.token;
    }
    const token = await createAgentToken(db, {
      agent: 'airline',
      scopes: ['ingest', 'resolve'],
      createdBy: 'test',
    });
    headers.agent = { authorization: `Bearer ${token.token}` };

    const created = await call('rita', 'POST', '/api/agents/airline/coaching', {
      situation: SITUATION,
      behaviour: {
        kind: 'reply',
        text: 'Basic economy flights cannot be modified; I can check whether a cancellation is possible.',
      },
    });
    assert.equal(created.status, 201, JSON.stringify(created.json));
    coachingId = (created.json.coaching as { id: string }).id;

    const embedder = localSituationEmbedder();
    const [situation] = await embedder.embed([SITUATION]);
    for (const ex of MOVES) {
      const [v] = await embedder.embed([situationQuery([{ role: 'user', content: request(ex) }])]);
      similarity.set(ex, dotProduct(normalised(v!), 0, normalised(situation!), v!.length));
    }

    const tag = [`${coachingId}@1`];
    await ingest([
      // Applied: three went well, one did not (feedback); two judged online, both passing.
      trace('applied-001', request('ex-001'), 1, { feedback: 1, applied: tag }),
      trace('applied-007', request('ex-007'), 2, { feedback: 1, applied: tag }),
      trace('applied-013', request('ex-013'), 3, { feedback: 1, applied: [...tag, 'coa_000000000000@4'] }),
      trace('applied-019', request('ex-019'), 4, { feedback: -1, applied: tag }),
      // Applied, but before the window.
      trace('applied-old', request('ex-001'), 45, { feedback: -1, applied: tag }),
      // The same situation without it: both went badly.
      trace('without-025', request('ex-025'), 2, { feedback: -1 }),
      trace('without-031', request('ex-031'), 3, { feedback: -1 }),
      // Another coaching applied in the same situation: a conversation without this one.
      trace('other-coaching', request('ex-031'), 3, { feedback: -1, applied: ['coa_000000000000@1'] }),
      // Other situations: not compared with, however they went.
      trace('cancel', CANCEL, 1, { feedback: 1 }),
      trace('bag', DAMAGED_BAG, 2, { feedback: 1 }),
    ]);
    await judge('applied-001', 'pass');
    await judge('applied-007', 'pass');
    await judge('without-025', 'fail');
    await judge('cancel', 'pass');
    // A cycle's judge score is not online evaluation's.
    await db
      .insertInto('cycles')
      .values({
        id: 'c-review',
        agent_id: 'airline',
        run_id: 'c-review-run',
        stage: 'awaiting_annotation',
        outcome: 'running',
        window_start: new Date(Date.now() - 7 * DAY),
        window_end: new Date(),
        input: '{}',
      })
      .execute();
    await judge('applied-019', 'fail', 'c-review');
  });
  after(async () => {
    await api?.close();
    await database?.teardown();
  });

  it('measures where a coaching was applied and how those conversations went against similar ones without it', async () => {
    for (const ex of ['ex-025', 'ex-031'])
      assert.ok(similarity.get(ex)! >= 0.32, `${ex} is in the situation (${similarity.get(ex)})`);
    const effect = await call('vera', 'GET', `/api/agents/airline/coaching/${coachingId}/effect`);
    assert.equal(effect.status, 200, JSON.stringify(effect.json));
    const applied = effect.json.applied as {
      traces: number;
      shown: {
        traceId: string;
        versions: number[];
        step: number;
        feedback: number;
        onlineJudge: string | null;
      }[];
    };
    assert.deepEqual(
      applied.shown.map((a) => a.traceId),
      ['applied-001', 'applied-007', 'applied-013', 'applied-019'],
      'newest first, within the 30 days, only this coaching',
    );
    assert.equal(applied.traces, 4);
    assert.deepEqual(applied.shown[2]!.versions, [1]);
    assert.equal(applied.shown[0]!.step, 2, 'the decision after the system and user messages');
    assert.deepEqual(
      applied.shown.map((a) => a.onlineJudge),
      ['pass', 'pass', null, null],
      "a cycle's judge score is not an online verdict",
    );
    const baseline = effect.json.baseline as { similar: number; scanned: number };
    assert.equal(baseline.scanned, 5, 'every trace of the window that did not apply it');
    assert.equal(baseline.similar, 3, 'of which three are in its situation');
    const success = effect.json.success as Record<
      string,
      {
        with: { traces: number; successes: number };
        without: { traces: number; successes: number };
        difference: number;
      }
    >;
    assert.deepEqual(
      [success.feedback!.with, success.feedback!.without].map((r) => [r.successes, r.traces]),
      [
        [3, 4],
        [0, 3],
      ],
    );
    assert.equal(success.feedback!.difference, 0.75);
    assert.deepEqual(
      [success.onlineJudge!.with, success.onlineJudge!.without].map((r) => [r.successes, r.traces]),
      [
        [2, 2],
        [0, 1],
      ],
    );
    const longer = await call('vera', 'GET', `/api/agents/airline/coaching/${coachingId}/effect?days=60`);
    assert.equal(
      (longer.json.applied as { traces: number }).traces,
      5,
      'the older application is in 60 days',
    );
  });

  it("moves the threshold with reviewers' marks: above a wrongly applied recall, back down when a correct mark outweighs it", async () => {
    const [low, high] = (['ex-001', 'ex-007', 'ex-013', 'ex-019'] as const)
      .map((ex) => ({ ex, s: similarity.get(ex)! }))
      .sort((a, b) => a.s - b.s)
      .filter((_, i, all) => i === 0 || i === all.length - 1);
    assert.ok(high!.s > low!.s + 0.02, `the applications differ in similarity (${low!.s}, ${high!.s})`);
    const traceOf = (ex: string) => `applied-${ex.slice(3)}`;
    assert.deepEqual(await recalled(request(low!.ex)), [coachingId]);

    const wrong = await call('rita', 'POST', `/api/agents/airline/coaching/${coachingId}/marks`, {
      traceId: traceOf(low!.ex),
      verdict: 'wrong',
      comment: 'this fare was refundable',
    });
    assert.equal(wrong.status, 200, JSON.stringify(wrong.json));
    const moved = wrong.json.threshold as { before: number; after: number; changed: boolean };
    assert.equal(moved.before, 0.32);
    assert.ok(moved.changed);
    assert.ok(moved.after > low!.s && moved.after <= low!.s + 0.0101, `${moved.after} just above ${low!.s}`);
    assert.ok(Math.abs((wrong.json.mark as { similarity: number }).similarity - low!.s) < 0.0002);
    assert.equal((wrong.json.coaching as { version: number; threshold: number }).version, 2);
    assert.deepEqual(
      await recalled(request(low!.ex)),
      [],
      'the wrongly applied conversation is not recalled any more',
    );
    assert.deepEqual(await recalled(request(high!.ex)), [coachingId], 'a more similar one still is');

    // Another reviewer finds the same application correct: one mark each way, and the
    // threshold nearest the author's wins, so it comes back down.
    const correct = await call('ruth', 'POST', `/api/agents/airline/coaching/${coachingId}/marks`, {
      traceId: traceOf(low!.ex),
      verdict: 'correct',
    });
    assert.equal(correct.status, 200, JSON.stringify(correct.json));
    assert.deepEqual(
      [
        (correct.json.threshold as { after: number }).after,
        (correct.json.coaching as { version: number }).version,
      ],
      [0.32, 3],
    );
    assert.deepEqual(await recalled(request(low!.ex)), [coachingId]);

    // A correct mark above the threshold changes nothing: no new version.
    const same = await call('rita', 'POST', `/api/agents/airline/coaching/${coachingId}/marks`, {
      traceId: traceOf(high!.ex),
      verdict: 'correct',
    });
    assert.equal(same.status, 200);
    assert.equal((same.json.threshold as { changed: boolean }).changed, false);
    assert.equal((same.json.coaching as { version: number }).version, 3);

    const effect = await call('vera', 'GET', `/api/agents/airline/coaching/${coachingId}/effect`);
    assert.deepEqual(
      [effect.json.marks].map((m) => [(m as Json).correct, (m as Json).wrong]),
      [[2, 1]],
    );
    assert.deepEqual(
      (effect.json.thresholds as { version: number; threshold: number; createdBy: string }[]).map((t) => [
        t.version,
        t.threshold === 0.32 ? 'author' : 'raised',
        t.createdBy,
      ]),
      [
        [1, 'author', 'user:rita'],
        [2, 'raised', 'user:rita'],
        [3, 'author', 'user:ruth'],
      ],
    );
    const marked = (
      effect.json.applied as { shown: { traceId: string; marks: { verdict: string }[] }[] }
    ).shown.find((a) => a.traceId === traceOf(low!.ex));
    assert.deepEqual(marked?.marks.map((m) => m.verdict).sort(), ['correct', 'wrong']);
    const audit = await db
      .selectFrom('audit_log')
      .select(['action', 'actor'])
      .where('artifact', '=', `coaching:airline/${coachingId}`)
      .orderBy('id')
      .execute();
    assert.deepEqual(
      audit.map((a) => `${a.action} ${a.actor}`),
      [
        'coaching.create user:rita',
        'coaching.mark user:rita',
        'coaching.threshold user:rita',
        'coaching.mark user:ruth',
        'coaching.threshold user:ruth',
        'coaching.mark user:rita',
      ],
    );
  });

  it('turns a review item correction into coaching in one call, from the redacted conversation, linked to its trace', async () => {
    await db
      .insertInto('annotation_queues')
      .values({
        id: annotationQueueId('c-review'),
        agent_id: 'airline',
        cycle_id: 'c-review',
        name: 'airline review',
        reviewers_per_item: 1,
        quorum: 1,
        claim_seconds: 600,
        status: 'open',
      })
      .execute();
    const text = `${request('ex-013')} You can reach me at sofia.rossi@example.com.`;
    await ingest([trace('reviewed', text, 1), trace('uncorrected', CANCEL, 1)]);
    const items: Record<string, string> = {};
    for (const traceId of ['reviewed', 'uncorrected']) {
      const added = await call('rita', 'POST', `/api/queues/${annotationQueueId('c-review')}/items`, {
        traceId,
      });
      assert.equal(added.status, 201, JSON.stringify(added.json));
      items[traceId] = added.json.itemId as string;
    }
    const reply = 'Basic economy flights cannot be changed. I can cancel the reservation if it is eligible.';
    await db
      .insertInto('annotations')
      .values({
        item_id: items.reviewed!,
        reviewer: 'ruth',
        verdict: 'fail',
        expected: JSON.stringify({ action: 'respond', arguments: {}, content: reply }),
      })
      .execute();

    const created = await call('rita', 'POST', `/api/items/${items.reviewed}/coaching`, {});
    assert.equal(created.status, 201, JSON.stringify(created.json));
    const coaching = created.json.coaching as {
      id: string;
      agent: string;
      situation: string;
      example: string;
      behaviour: unknown;
      sourceTraceId: string;
      sourceStep: number;
      updatedBy: string;
      reason: string;
    };
    assert.equal(coaching.agent, 'airline');
    assert.match(coaching.situation, /^When replying to: "Hi, I'm Sofia Rossi/);
    assert.deepEqual(coaching.behaviour, { kind: 'reply', text: reply });
    assert.equal(coaching.sourceTraceId, 'reviewed');
    assert.equal(coaching.sourceStep, 2);
    assert.equal(coaching.updatedBy, 'user:rita', 'the author is who called, from the credentials');
    assert.equal(created.json.correctionBy, 'ruth');
    assert.match(coaching.reason, new RegExp(`item ${items.reviewed}`));
    for (const shown of [coaching.situation, coaching.example])
      assert.doesNotMatch(shown, /sofia\.rossi@example\.com/, 'coaching carries the redacted conversation');
    assert.ok((await recalled(text)).includes(coaching.id), 'it is recalled at once');

    // The caller's own correction wins over another reviewer's; the situation may be given.
    await db
      .insertInto('annotations')
      .values({
        item_id: items.reviewed!,
        reviewer: 'rita',
        verdict: 'fail',
        expected: JSON.stringify({
          action: 'transfer_to_human_agents',
          arguments: { summary: 'basic economy change' },
        }),
      })
      .execute();
    const own = await call('rita', 'POST', `/api/items/${items.reviewed}/coaching`, {
      situation: 'When a customer with a basic-economy ticket wants another flight',
      threshold: 0.3,
    });
    assert.equal(own.status, 201, JSON.stringify(own.json));
    assert.deepEqual((own.json.coaching as { behaviour: unknown }).behaviour, {
      kind: 'tool_call',
      tool: 'transfer_to_human_agents',
      arguments: { summary: 'basic economy change' },
    });
    assert.equal(
      (own.json.coaching as { situation: string }).situation,
      'When a customer with a basic-economy ticket wants another flight',
    );

    const rows = Number(
      (
        await db
          .selectFrom('coaching')
          .select((eb) => eb.fn.countAll<string>().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );
    const cases: [string, Awaited<ReturnType<typeof call>>, number, RegExp][] = [
      [
        'an item nobody corrected',
        await call('rita', 'POST', `/api/items/${items.uncorrected}/coaching`, {}),
        409,
        /no corrected step/,
      ],
      [
        'an unknown item',
        await call('gina', 'POST', '/api/items/c-review:item:nope/coaching', {}),
        404,
        /No annotation item/,
      ],
      ['a viewer', await call('vera', 'POST', `/api/items/${items.reviewed}/coaching`, {}), 403, /reviewer/],
      [
        'an author in the body',
        await call('rita', 'POST', `/api/items/${items.reviewed}/coaching`, { actor: 'ruth' }),
        400,
        /credentials/,
      ],
      [
        'a threshold above 1',
        await call('rita', 'POST', `/api/items/${items.reviewed}/coaching`, { threshold: 2 }),
        400,
        /threshold/,
      ],
    ];
    for (const [what, res, status, message] of cases) {
      assert.equal(res.status, status, `${what}: ${JSON.stringify(res.json)}`);
      assert.match(res.json.error, message, what);
    }
    const after = Number(
      (
        await db
          .selectFrom('coaching')
          .select((eb) => eb.fn.countAll<string>().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );
    assert.equal(after, rows, 'nothing was stored');
  });

  it('refuses bad marks and effect queries with a 4xx that says what was wrong, and stores nothing', async () => {
    const marks = async () =>
      Number(
        (
          await db
            .selectFrom('coaching_marks')
            .select((eb) => eb.fn.countAll<string>().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
      );
    const before = await marks();
    const mark = (who: string, body: unknown) =>
      call(who, 'POST', `/api/agents/airline/coaching/${coachingId}/marks`, body);
    const cases: [string, Awaited<ReturnType<typeof call>>, number, RegExp][] = [
      [
        'a trace that did not apply it',
        await mark('rita', { traceId: 'without-025', verdict: 'wrong' }),
        400,
        /did not apply coaching/,
      ],
      [
        "another coaching's application",
        await mark('rita', { traceId: 'other-coaching', verdict: 'wrong' }),
        400,
        /did not apply/,
      ],
      ['an unknown trace', await mark('rita', { traceId: 'nope', verdict: 'wrong' }), 404, /no trace nope/],
      ['an unknown verdict', await mark('rita', { traceId: 'applied-001', verdict: 'meh' }), 400, /verdict/],
      [
        'a reviewer in the body',
        await mark('rita', { traceId: 'applied-001', verdict: 'wrong', reviewer: 'ruth' }),
        400,
        /credentials/,
      ],
      ['a viewer marking', await mark('vera', { traceId: 'applied-001', verdict: 'wrong' }), 403, /reviewer/],
      [
        'an unknown coaching',
        await call('rita', 'POST', '/api/agents/airline/coaching/coa_000000000000/marks', {
          traceId: 'applied-001',
          verdict: 'wrong',
        }),
        404,
        /no coaching coa_000000000000/,
      ],
      [
        'zero days',
        await call('vera', 'GET', `/api/agents/airline/coaching/${coachingId}/effect?days=0`),
        400,
        /days/,
      ],
      [
        'days as words',
        await call('vera', 'GET', `/api/agents/airline/coaching/${coachingId}/effect?days=many`),
        400,
        /days/,
      ],
    ];
    for (const [what, res, status, message] of cases) {
      assert.equal(res.status, status, `${what}: ${JSON.stringify(res.json)}`);
      assert.match(res.json.error, message, what);
    }
    assert.equal(await marks(), before);
  });

  it('works from the CLI: coaching effect, coaching mark and coaching from-item', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'flywheel-coaching-effect-cli-'));
    // Its own home and no models: the CLI embeds locally, as the API of this test does.
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      DATABASE_URL: database.url,
      XDG_CONFIG_HOME: path.join(dir, 'config'),
      FLYWHEEL_HOME: path.join(dir, 'home'),
    };
    for (const key of ['FLYWHEEL_TOKEN', 'FLYWHEEL_LLM_BASE_URL', 'FLYWHEEL_EMBEDDER_MODEL']) delete env[key];
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

    const effect = await flywheel('vera', 'coaching', 'effect', 'airline', coachingId);
    assert.match(effect, /applied in 4 trace\(s\); \d+ similar trace\(s\) without it/);
    assert.match(effect, /feedback +with 75% \(3\/4; 95% \d+%-\d+%\) {2}without 0% \(0\/3/);
    assert.match(effect, /marks: 2 correctly applied, 1 wrongly applied/);
    assert.match(effect, /applied-001 .* at step 2 {2}feedback \+1 {2}judge pass/);

    const marked = await flywheel(
      'ruth',
      'coaching',
      'mark',
      'airline',
      coachingId,
      'applied-007',
      '--correct',
    );
    assert.match(marked, /marked applied-007 correct \(similarity [0-9.]+\); threshold stays 0.32/);
    await assert.rejects(
      flywheel('ruth', 'coaching', 'mark', 'airline', coachingId, 'applied-007'),
      (e: { stderr?: string }) => /--correct or --wrong/.test(e.stderr ?? ''),
    );
    await assert.rejects(
      flywheel('vera', 'coaching', 'mark', 'airline', coachingId, 'applied-007', '--wrong'),
      (e: { stderr?: string }) => /reviewer/.test(e.stderr ?? ''),
    );

    const item = (
      await db
        .selectFrom('annotation_items')
        .select('id')
        .where('trace_id', '=', 'reviewed')
        .executeTakeFirstOrThrow()
    ).id;
    const created = await flywheel('ruth', 'coaching', 'from-item', item);
    assert.match(
      created,
      /created coa_[0-9a-f]{12} {2}v1 {2}active +≥0.32 {2}When replying to: "Hi, I'm Sofia Rossi/,
    );
    assert.match(created, new RegExp(`from item ${item}, ruth's correction of trace reviewed`));
  });
});
