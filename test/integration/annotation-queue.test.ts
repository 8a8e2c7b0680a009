import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Worker } from '@temporalio/worker';
import { latestLabels } from '../../activities/cycle-verdicts.js';
import type { annotateItem, BatchResult } from '../../annotation/annotation-service.js';
import type { ClaimResult } from '../../annotation/store/annotation-writes.js';
import type { queueDetails } from '../../annotation/queue-details-service.js';
import type { listQueues, queueItems } from '../../annotation/store/annotation-reads.js';
import type { ScoreConfig } from '../../schemas/score-config.js';
import { annotationItems, startCycle, submitAnnotations } from '../../cycles/cycle-service.js';
import type { ApiServer } from '../../api/http-server.js';
import type { Db } from '../../db/connection.js';
import { AgentConfig } from '../../schemas/agent-config.js';
import { FAILURE_CATEGORIES } from '../../schemas/failure-category.js';
import { ChatMessage } from '../../schemas/trace.js';
import { submitBatchFile, writeQueueTemplate } from '../../scripts/queue-commands.js';
import { findExample } from '../simulator/simulated-models.js';
import { waitForStage } from '../helpers/cycle-driver.js';
import { startSeededStack, stopSeededStack, type TestStack } from '../helpers/test-stack.js';
import { personWithToken } from '../helpers/api-credentials.js';

const REVIEWERS = ['ann', 'bob', 'cy'];

const cycleInput = {
  agent: 'demo',
  seed: 11,
  sampleRate: 0.4,
  maxAnnotationItems: 4,
  optimizer: {
    choice: { name: 'random-search' as const, settings: { proposalsPerCall: 4 } },
    budget: { maxRollouts: 200 },
  },
};

type QueueItem = Awaited<ReturnType<typeof queueItems>>[number];
/** Every answer shape of the annotation API in one type; each call reads the fields it expects. */
type Body = Awaited<ReturnType<typeof queueDetails>> &
  BatchResult &
  Awaited<ReturnType<typeof annotateItem>> &
  ClaimResult & {
    error: string;
    field?: string;
    items: QueueItem[];
    queues: Awaited<ReturnType<typeof listQueues>>;
    scoreConfigs: ScoreConfig[];
  };

/** The cycle row reaches the stage too (the API checks the database, not the workflow). */
async function waitForDbStage(db: Db, cycleId: string, stage: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const row = await db.selectFrom('cycles').select('stage').where('id', '=', cycleId).executeTakeFirst();
    if (row?.stage === stage) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`cycle ${cycleId} never recorded stage ${stage}`);
}

/** Changes the demo agent's annotation policy for the cycles started after it. */
async function setAnnotationPolicy(db: Db, patch: Partial<AgentConfig['annotation']>): Promise<void> {
  const row = await db
    .selectFrom('agents')
    .select('config')
    .where('id', '=', 'demo')
    .executeTakeFirstOrThrow();
  const config = AgentConfig.parse(row.config);
  config.annotation = { ...config.annotation, ...patch };
  await db
    .updateTable('agents')
    .set({ config: JSON.stringify(config) })
    .where('id', '=', 'demo')
    .execute();
}

const near = (actual: number | null | undefined, expected: number) =>
  assert.ok(actual != null && Math.abs(actual - expected) < 1e-9, `${actual} ≠ ${expected}`);

describe('annotation queues on a real Temporal server, real PostgreSQL and the HTTP API', () => {
  let stack: TestStack;
  let api: ApiServer;
  let worker: Worker;
  let running: Promise<void>;
  const quorumCycle = `cycle-demo-quorum-${Date.now()}`;
  const claimCycle = `cycle-demo-claims-${Date.now()}`;

  /** Personal tokens of the reviewers, made on first use. */
  const tokens = new Map<string, string>();
  const call = async (
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: Body }> => {
    // Who labels comes from the token: the body's `reviewer` picks the person and is left out.
    const { reviewer, ...rest } = (body ?? {}) as { reviewer?: string };
    // Calls that name no reviewer (score configs, queue reads) come from the team lead, an operator.
    const person = reviewer ?? 'lead';
    if (!tokens.has(person))
      tokens.set(person, (await personWithToken(stack.db, person, reviewer ? 'reviewer' : 'operator')).token);
    const res = await fetch(`${api.url}${path}`, {
      method,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${tokens.get(person)!}` },
      ...(body === undefined ? {} : { body: JSON.stringify(rest) }),
    });
    return { status: res.status, body: (await res.json()) as Body };
  };
  const labelsOf = async (itemId: string) =>
    stack.db
      .selectFrom('annotations')
      .select(['reviewer', 'verdict'])
      .where('item_id', '=', itemId)
      .execute();

  before(async () => {
    ({ stack, api } = await startSeededStack({ traces: 200, seed: 8 }));
    // Three reviewers, two per item, and a quorum of three quarters of the items.
    await setAnnotationPolicy(stack.db, { reviewers: REVIEWERS, reviewersPerItem: 2, quorum: 0.75 });
    worker = await stack.newWorker();
    running = worker.run();
    // Score configs exist before the cycles so their queues list them.
    const helpfulness = await call('POST', '/api/score-configs', {
      agent: 'demo',
      name: 'helpfulness',
      dataType: 'NUMERIC',
      minValue: 1,
      maxValue: 5,
    });
    assert.equal(helpfulness.status, 201, JSON.stringify(helpfulness.body));
    const tone = await call('POST', '/api/score-configs', {
      name: 'tone',
      dataType: 'CATEGORICAL',
      categories: [
        { label: 'rude', value: 0 },
        { label: 'polite', value: 1 },
      ],
    });
    assert.equal(tone.status, 201, JSON.stringify(tone.body));
    await startCycle(stack.env.client, {
      taskQueue: stack.taskQueue,
      workflowId: quorumCycle,
      input: { ...cycleInput, annotationDeadlineSeconds: 900, annotationClaimSeconds: 300 },
    });
    await startCycle(stack.env.client, {
      taskQueue: stack.taskQueue,
      workflowId: claimCycle,
      input: { ...cycleInput, seed: 12, annotationDeadlineSeconds: 40, annotationClaimSeconds: 2 },
    });
  });
  after(async () => {
    for (const id of [quorumCycle, claimCycle])
      await stack?.env.client.workflow
        .getHandle(id)
        .terminate('test done')
        .catch(() => undefined);
    worker?.shutdown();
    await running?.catch(() => undefined);
    await stopSeededStack({ stack, api });
  });

  it('score configs are validated and listed per agent with the global ones', async () => {
    const bad = await call('POST', '/api/score-configs', {
      name: 'speed',
      dataType: 'NUMERIC',
      minValue: 5,
      maxValue: 1,
    });
    assert.equal(bad.status, 400);
    assert.match(bad.body.error, /minValue \(5\) must be below maxValue \(1\)/);
    const dup = await call('POST', '/api/score-configs', {
      agent: 'demo',
      name: 'tone',
      dataType: 'BOOLEAN',
    });
    assert.equal(dup.status, 409, 'a global config already owns the name');
    const listed = await call('GET', '/api/score-configs?agent=demo');
    assert.deepEqual(
      listed.body.scoreConfigs.map((c) => [c.name, c.agent]),
      [
        ['helpfulness', 'demo'],
        ['tone', null],
      ],
    );
  });

  it('a claim expires on the database clock: another reviewer takes the slot and the late label is refused', async () => {
    const client = stack.env.client;
    const atQueue = await waitForStage(client, claimCycle, ['awaiting_annotation', 'done'], 300_000);
    assert.equal(atQueue.stage, 'awaiting_annotation', `cycle ended early: ${atQueue.outcome}`);
    await waitForDbStage(stack.db, claimCycle, 'awaiting_annotation');
    const items = (await call('GET', `/api/queues/${claimCycle}/items`)).body.items;
    const id = encodeURIComponent(items[0]!.id);
    assert.equal((await call('POST', `/api/items/${id}/claim`, { reviewer: 'ann' })).status, 200);
    assert.equal((await call('POST', `/api/items/${id}/claim`, { reviewer: 'bob' })).status, 200);
    let r = await call('POST', `/api/items/${id}/claim`, { reviewer: 'cy' });
    assert.equal(r.status, 409, 'two slots, both claimed');
    assert.match(
      r.body.error,
      /Every review slot .* is taken \(claimed by ann until .*, claimed by bob until/,
    );
    let items0 = (await call('GET', `/api/queues/${claimCycle}/items?status=in_progress`)).body.items;
    assert.deepEqual(
      items0.map((i) => i.id),
      [items[0]!.id],
    );

    await new Promise((resolve) => setTimeout(resolve, 2500));
    items0 = (await call('GET', `/api/queues/${claimCycle}/items?status=pending`)).body.items;
    assert.ok(
      items0.some((i) => i.id === items[0]!.id),
      'with every claim expired and no label the item is pending again',
    );
    r = await call('POST', `/api/items/${id}/claim`, { reviewer: 'cy' });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    r = await call('POST', `/api/items/${id}/annotations`, { reviewer: 'ann', verdict: 'pass' });
    assert.equal(r.status, 409);
    assert.match(r.body.error, /ann's claim on item .* expired at/);
    assert.deepEqual(await labelsOf(items[0]!.id), []);
    r = await call('POST', `/api/items/${id}/release`, { reviewer: 'cy' });
    assert.equal(r.status, 200);
    r = await call('POST', `/api/items/${id}/release`, { reviewer: 'cy' });
    assert.equal(r.status, 409);
    assert.match(r.body.error, /cy holds no live claim/);

    // At the deadline the cycle moves on without quorum and the queue closes.
    await waitForStage(
      client,
      claimCycle,
      ['building_dataset', 'optimizing', 'gating', 'awaiting_approval', 'rolling_out', 'done'],
      120_000,
    );
    r = await call('POST', `/api/items/${id}/claim`, { reviewer: 'ann' });
    assert.equal(r.status, 409);
    assert.match(r.body.error, /not waiting for annotation .* is closed/);
    r = await call('POST', `/api/queues/${claimCycle}/annotations`, {
      reviewer: 'ann',
      labels: [{ itemId: items[1]!.id, verdict: 'pass' }],
    });
    assert.equal(r.status, 409);
    assert.match(r.body.error, /not waiting for annotation/);
    const progress = (await call('GET', `/api/queues/${claimCycle}`)).body;
    assert.equal(progress.queue.status, 'closed');
    assert.equal(progress.progress.complete, 0);
    await client.workflow.getHandle(claimCycle).terminate('test done');
  });
  it('reviewers label through claims; quorum completion signals once and moves the cycle on', async () => {
    const client = stack.env.client;
    const atQueue = await waitForStage(client, quorumCycle, ['awaiting_annotation', 'done'], 300_000);
    assert.equal(atQueue.stage, 'awaiting_annotation', `cycle ended early: ${atQueue.outcome}`);
    await waitForDbStage(stack.db, quorumCycle, 'awaiting_annotation');

    const queues = await call('GET', '/api/queues?agent=demo');
    const queueId = `${quorumCycle}:queue`;
    assert.ok(queues.body.queues.some((q) => q.id === queueId && q.status === 'open'));
    const listed = await call('GET', `/api/queues/${encodeURIComponent(queueId)}/items`);
    const items = listed.body.items;
    assert.equal(items.length, 4, 'the queue holds maxAnnotationItems traces');
    // A quarter of the queue (calibrationShare 0.25) is traces the judge passed, outside any
    // failure cluster: calibration needs reviewer labels on both classes.
    const calibration = items.filter((i) => i.cluster_id === null);
    assert.equal(calibration.length, 1, 'one calibration item');
    assert.equal(calibration[0]!.judge_label, 'pass');
    assert.ok(items.filter((i) => i.cluster_id !== null).every((i) => i.judge_label === 'fail'));
    for (const item of items) {
      assert.equal(item.status, 'pending');
      assert.equal(item.required_reviews, 2);
      assert.equal(new Set(item.assigned).size, 2, 'two distinct reviewers per item');
      assert.ok(['pass', 'fail'].includes(item.judge_label));
      assert.ok(item.judge_explanation, 'the reviewer sees why the judge (or code check) decided');
    }
    assert.ok(
      items.some((i) => i.failing_finding),
      'and what a failing evaluator found, at which step',
    );
    // Round-robin over ann, bob, cy: ann bob | cy ann | bob cy | ann bob → loads 3, 3, 2.
    const load = (name: string) => items.filter((i) => i.assigned.includes(name)).length;
    assert.deepEqual(REVIEWERS.map(load), [3, 3, 2]);
    const legacy = await call('GET', `/api/cycles/${quorumCycle}/annotations`);
    assert.deepEqual(
      legacy.body.items.map((i) => i.id),
      items.map((i) => i.id),
    );
    const mine = await call('GET', `/api/queues/${quorumCycle}/items?reviewer=cy`);
    assert.deepEqual(
      mine.body.items.map((i) => i.id),
      items.filter((i) => i.assigned.includes('cy')).map((i) => i.id),
    );
    const [i0, i1, i2, i3] = items.map((i) => i.id) as [string, string, string, string];
    const item = (id: string) => `/api/items/${encodeURIComponent(id)}`;

    // Bad input: each refusal names the problem and stores nothing.
    let r = await call('POST', `${item(i3)}/annotations`, { reviewer: 'ann', verdict: 'pass' });
    assert.equal(r.status, 409);
    assert.match(r.body.error, /ann has not claimed item/);
    r = await call('POST', `${item(i3)}/claim`, { reviewer: 'mallory' });
    assert.equal(r.status, 403);
    assert.match(r.body.error, /mallory is not a reviewer of agent demo \(reviewers: ann, bob, cy\)/);
    r = await call('POST', `${item(i3)}/claim`, { reviewer: 'ann' });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const claimed = new Date(r.body.expiresAt).getTime() - new Date(r.body.claimedAt).getTime();
    assert.equal(claimed, 300_000, 'the claim lasts annotationClaimSeconds on the database clock');
    for (const [scores, why] of [
      [{ helpfulness: 9 }, /"helpfulness" must be within \[1, 5\]; got 9/],
      [{ tone: 'sarcastic' }, /no category "sarcastic"; use one of rude, polite/],
      [{ speed: 2 }, /unknown score config "speed"; this queue takes helpfulness, tone/],
    ] as const) {
      r = await call('POST', `${item(i3)}/annotations`, { reviewer: 'ann', verdict: 'pass', scores });
      assert.equal(r.status, 400);
      assert.match(r.body.error, why);
    }
    r = await call('POST', `${item(i3)}/annotations`, { reviewer: 'ann', verdict: 'maybe' });
    assert.equal(r.status, 400);
    assert.match(r.body.error, /verdict/);
    // An expected tool call must be one the agent can make: a tool it has, with arguments its
    // parameters schema accepts. The answer names the item, the field and what the tool takes.
    r = await call('POST', `${item(i3)}/annotations`, {
      reviewer: 'ann',
      verdict: 'fail',
      expected: { action: 'cancel_booking', arguments: { reservation_id: 'R1' } },
    });
    assert.equal(r.status, 400);
    assert.equal(r.body.field, 'expected.action');
    assert.match(
      r.body.error,
      /^Item .*: the expected tool "cancel_booking" is not one of the agent's tools \(get_user_details, .*cancel_reservation.*\).*Nothing was stored\.$/,
    );
    assert.ok(r.body.error.includes(i3), r.body.error);
    r = await call('POST', `${item(i3)}/annotations`, {
      reviewer: 'ann',
      verdict: 'fail',
      expected: { action: 'cancel_reservation', arguments: { reservation: 'R1' } },
    });
    assert.equal(r.status, 400);
    assert.equal(r.body.field, 'expected.arguments');
    assert.match(r.body.error, /reservation_id is missing/);
    assert.match(r.body.error, /reservation is not a parameter of it/);
    assert.match(
      r.body.error,
      /cancel_reservation takes reservation_id \(string, required\) and nothing else/,
    );
    r = await call('POST', `${item(i3)}/annotations`, {
      reviewer: 'ann',
      verdict: 'fail',
      expected: { action: 'send_certificate', arguments: { user_id: 'u1', amount: '50' } },
    });
    assert.equal(r.status, 400);
    assert.match(r.body.error, /amount must be a number \(got "50", a string\)/);
    assert.deepEqual(await labelsOf(i3), [], 'no refused label was stored');

    // ann labels i3 (it stays half done); ann and bob label i0 and i1.
    r = await call('POST', `${item(i3)}/annotations`, {
      reviewer: 'ann',
      verdict: 'pass',
      scores: { helpfulness: 3, tone: 'polite' },
    });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual([r.body.reviews, r.body.requiredReviews, r.body.itemComplete], [1, 2, false]);
    for (const [id, verdict, helpfulness] of [
      [i0, 'pass', 4],
      [i1, 'pass', 2],
    ] as const) {
      assert.equal((await call('POST', `${item(id)}/claim`, { reviewer: 'ann' })).status, 200);
      r = await call('POST', `${item(id)}/annotations`, {
        reviewer: 'ann',
        verdict,
        scores: { helpfulness },
      });
      assert.equal(r.status, 200, JSON.stringify(r.body));
    }
    // bob's batch: claims each free item itself; a malformed entry and an unknown item are
    // reported by index while the valid entries are kept.
    r = await call('POST', `/api/queues/${encodeURIComponent(queueId)}/annotations`, {
      reviewer: 'bob',
      labels: [
        { itemId: i0, verdict: 'pass', scores: { helpfulness: 5 } },
        { itemId: i1, verdict: 'fail', scores: { helpfulness: 2 }, comment: 'wrong tool' },
        { itemId: i2, verdict: 'perhaps' },
        { itemId: `${quorumCycle}:item:nope`, verdict: 'pass' },
        {
          itemId: i3,
          verdict: 'fail',
          expected: { action: 'get_flight_status', arguments: { flight: 'HAT001' } },
        },
      ],
    });
    assert.equal(r.status, 207);
    assert.equal(r.body.stored, 2);
    assert.deepEqual(
      r.body.errors.map((e) => e.index),
      [2, 3, 4],
    );
    assert.match(r.body.errors[0]!.error, /malformed label: verdict/);
    assert.match(r.body.errors[1]!.error, /Unknown annotation item/);
    assert.equal(r.body.errors[2]!.itemId, i3);
    assert.match(
      r.body.errors[2]!.error,
      /^Item .*: the arguments of the expected get_flight_status call do not fit the tool: flight_number is missing; flight is not a parameter of it\. get_flight_status takes flight_number \(string, required\) and nothing else\. Nothing was stored\.$/,
    );
    assert.deepEqual(
      (await labelsOf(i3)).map((l) => l.reviewer),
      ['ann'],
      "bob's refused label on i3 was not stored",
    );

    assert.equal(r.body.complete, false, '2 of 4 items complete is below the 0.75 quorum');
    assert.deepEqual(await labelsOf(i2), []);

    // ann changes her label on i0 (complete) while the queue is open: no claim needed, the
    // item keeps its two reviews, the consensus follows, and she reads her label back.
    r = await call('POST', `${item(i0)}/annotations`, {
      reviewer: 'ann',
      verdict: 'fail',
      comment: 'on second thought',
    });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual([r.body.reviews, r.body.itemComplete, r.body.queueCompleted], [2, true, false]);
    const i0Row = () =>
      stack.db
        .selectFrom('annotation_items')
        .select(['consensus_verdict', 'disagreement', 'status'])
        .where('id', '=', i0)
        .executeTakeFirstOrThrow();
    assert.deepEqual(await i0Row(), { consensus_verdict: 'fail', disagreement: true, status: 'complete' });
    const read = await fetch(`${api.url}${item(i0)}`, {
      headers: { authorization: `Bearer ${tokens.get('ann')!}` },
    });
    const shown = (await read.json()) as { yourLabel: { verdict: string; comment: string | null } | null };
    assert.deepEqual([shown.yourLabel?.verdict, shown.yourLabel?.comment], ['fail', 'on second thought']);
    r = await call('POST', `${item(i0)}/annotations`, {
      reviewer: 'ann',
      verdict: 'pass',
      scores: { helpfulness: 4 },
    });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(await i0Row(), { consensus_verdict: 'pass', disagreement: false, status: 'complete' });
    assert.deepEqual(
      (await labelsOf(i0)).map((l) => `${l.reviewer}:${l.verdict}`).sort(),
      ['ann:pass', 'bob:pass'],
      'a change replaces the label, it adds none',
    );

    // Below quorum the cycle keeps waiting, and a complete item takes no more claims.
    let progress = (await call('GET', `/api/queues/${encodeURIComponent(queueId)}`)).body;
    assert.deepEqual(
      [progress.progress.complete, progress.progress.inProgress, progress.progress.pending],
      [2, 1, 1],
    );
    assert.equal(progress.progress.quorumReached, false);
    assert.equal(
      (await waitForStage(client, quorumCycle, ['awaiting_annotation'])).stage,
      'awaiting_annotation',
    );
    r = await call('POST', `${item(i0)}/claim`, { reviewer: 'cy' });
    assert.equal(r.status, 409);
    assert.match(r.body.error, /already complete/);

    // The third complete item reaches quorum: one signal, and the cycle moves on.
    for (const reviewer of ['ann', 'bob']) {
      assert.equal((await call('POST', `${item(i2)}/claim`, { reviewer })).status, 200);
      r = await call('POST', `${item(i2)}/annotations`, {
        reviewer,
        verdict: 'fail',
        scores: { helpfulness: reviewer === 'ann' ? 1 : 2 },
      });
      assert.equal(r.status, 200, JSON.stringify(r.body));
    }
    assert.equal(r.body.queueCompleted, true);
    assert.equal(r.body.notified, true);
    const moved = await waitForStage(
      client,
      quorumCycle,
      ['building_dataset', 'optimizing', 'gating', 'awaiting_approval', 'rolling_out', 'done'],
      120_000,
    );
    assert.equal(moved.annotation?.decidedBy, 'reviewers');
    assert.equal(moved.annotation?.labelled, 4, 'the half-done item counts with its one label');

    // A complete queue takes nothing more, not even a change of one's own label: the cycle
    // has read the labels.
    r = await call('POST', `${item(i3)}/claim`, { reviewer: 'bob' });
    assert.equal(r.status, 409);
    assert.match(r.body.error, /Queue .* is complete/);
    r = await call('POST', `${item(i0)}/annotations`, { reviewer: 'ann', verdict: 'fail' });
    assert.equal(r.status, 409);
    assert.match(r.body.error, /Queue .* is complete/);
    const signals = ((await client.workflow.getHandle(quorumCycle).fetchHistory()).events ?? []).filter(
      (e) => e.workflowExecutionSignaledEventAttributes,
    );
    assert.equal(signals.length, 1, 'the workflow is signalled once, at quorum, not per item');

    // The consensus: a 1–1 split counts as fail and is flagged.
    const consensus = await latestLabels(stack.db, quorumCycle);
    const byItem = new Map(items.map((i) => [i.trace_id, i.id]));
    const verdictOf = (id: string) =>
      [...consensus.values()].find((l) => byItem.get(l.trace_id) === id) ?? assert.fail(`no label for ${id}`);
    assert.equal(verdictOf(i0).verdict, 'pass');
    assert.equal(verdictOf(i1).verdict, 'fail');
    assert.equal(verdictOf(i1).disagreement, true);
    assert.equal(verdictOf(i1).comment, 'wrong tool', 'the fail label speaks for the tie');
    assert.equal(verdictOf(i2).reviews, 2);
    assert.equal(verdictOf(i3).reviewer, 'ann');

    // Agreement of ann and bob over i0 (pass, pass), i1 (pass, fail), i2 (fail, fail):
    //   p_o = 2/3; ann passes 2/3, bob 1/3 → p_e = 2/3·1/3 + 1/3·2/3 = 4/9 → Cohen κ = (2/9)/(5/9) = 2/5
    //   pooled 3 pass / 3 fail → P̄_e = 1/2 → Fleiss κ = (2/3 − 1/2)/(1/2) = 1/3
    //   coincidences: o_pf = o_fp = 1, n = 6 → α = 1 − 5·2/(2·3·3) = 4/9
    // helpfulness (interval): (4,5), (2,2), (1,2) → values 1,2,2,2,4,5, n = 6, Σ o·δ² = 4,
    //   Σ n_c n_k δ² = 2·(1·3·1 + 1·1·9 + 1·1·16 + 3·1·4 + 3·1·9 + 1·1·1) = 136 → α = 1 − 5·4/136 = 29/34
    progress = (await call('GET', `/api/queues/${quorumCycle}`)).body;
    const verdict = progress.agreement.verdict;
    assert.equal(verdict.items, 3);
    near(verdict.percentAgreement, 2 / 3);
    assert.deepEqual(verdict.cohenKappa[0]!.raters, ['ann', 'bob']);
    near(verdict.cohenKappa[0]?.kappa, 2 / 5);
    near(verdict.fleissKappa, 1 / 3);
    near(verdict.krippendorffAlpha, 4 / 9);
    near(progress.agreement.scores.helpfulness?.krippendorffAlpha, 29 / 34);
    assert.equal(progress.agreement.scores.tone?.items, 0, 'one tone label is no agreement data');
    assert.deepEqual(
      progress.scoreConfigs.map((c) => c.name),
      ['helpfulness', 'tone'],
    );
    assert.equal(progress.queue.status, 'complete');
    const byReviewer = Object.fromEntries(progress.progress.byReviewer.map((x) => [x.reviewer, x]));
    const of = (name: string) => byReviewer[name] ?? assert.fail(`${name} missing from progress`);
    assert.deepEqual([of('ann').completed, of('bob').completed], [4, 3]);
    // Open: assigned, still incomplete (only i3) and not labelled by the reviewer.
    const assignedI3 = (name: string) => items[3]!.assigned.includes(name);
    assert.equal(of('ann').open, 0, 'ann labelled every item');
    assert.equal(of('bob').open, assignedI3('bob') ? 1 : 0);
    assert.equal(of('cy').open, assignedI3('cy') ? 1 : 0);
    assert.equal(of('cy').completed, 0);
    assert.deepEqual(
      REVIEWERS.map((name) => of(name).assigned),
      REVIEWERS.map(load),
    );
  });
  it('the pre-queue calls still work: one reviewer labelling every item completes a one-review queue', async () => {
    const client = stack.env.client;
    await setAnnotationPolicy(stack.db, { reviewers: [], reviewersPerItem: 1, quorum: 1 });
    const cycleId = `cycle-demo-legacy-${Date.now()}`;
    await startCycle(client, {
      taskQueue: stack.taskQueue,
      workflowId: cycleId,
      input: { ...cycleInput, seed: 13, annotationDeadlineSeconds: 900 },
    });
    try {
      await waitForStage(client, cycleId, ['awaiting_annotation'], 300_000);
      await waitForDbStage(stack.db, cycleId, 'awaiting_annotation');
      const items = await annotationItems(stack.db, cycleId);
      assert.ok(items.length > 0);
      assert.ok(items.every((i) => i.assigned.length === 0 && i.required_reviews === 1));
      await assert.rejects(
        submitAnnotations(stack.db, client, cycleId, {
          reviewer: 'rita',
          labels: [{ itemId: 'nope', verdict: 'pass' }],
        }),
        /Unknown annotation item/,
      );
      await assert.rejects(submitAnnotations(stack.db, client, cycleId, { labels: [] }), /reviewer/);
      const submitted = await submitAnnotations(stack.db, client, cycleId, {
        reviewer: 'rita',
        labels: items.map((i) => ({ itemId: i.id, verdict: 'fail' as const, comment: 'checked' })),
      });
      assert.deepEqual(
        [submitted.stored, submitted.remaining, submitted.complete, submitted.errors.length],
        [items.length, 0, true, 0],
      );
      const moved = await waitForStage(
        client,
        cycleId,
        ['building_dataset', 'optimizing', 'gating', 'awaiting_approval', 'rolling_out', 'done'],
        120_000,
      );
      assert.equal(moved.annotation?.decidedBy, 'reviewers');
      assert.equal(moved.annotation?.labelled, items.length);
    } finally {
      await client.workflow
        .getHandle(cycleId)
        .terminate('test done')
        .catch(() => undefined);
    }
  });
  it('the queue template round-trips: submitted unchanged it is accepted, and flagged slices reach the dataset', async () => {
    const client = stack.env.client;
    // Anyone labels, two reviews per item, every item needed: both reviewers' files count.
    await setAnnotationPolicy(stack.db, { reviewers: [], reviewersPerItem: 2, quorum: 1 });
    const cycleId = `cycle-demo-template-${Date.now()}`;
    const dir = mkdtempSync(path.join(tmpdir(), 'flywheel-template-'));
    await startCycle(client, {
      taskQueue: stack.taskQueue,
      workflowId: cycleId,
      input: { ...cycleInput, seed: 14, maxAnnotationItems: 8, annotationDeadlineSeconds: 900 },
    });
    try {
      const atQueue = await waitForStage(client, cycleId, ['awaiting_annotation', 'done'], 300_000);
      assert.equal(atQueue.stage, 'awaiting_annotation', `cycle ended early: ${atQueue.outcome}`);
      await waitForDbStage(stack.db, cycleId, 'awaiting_annotation');
      const items = await annotationItems(stack.db, cycleId);
      assert.ok(items.length >= 2, `the queue holds ${items.length} item(s)`);
      const known = new Set<string>(FAILURE_CATEGORIES);
      for (const i of items)
        assert.ok(
          i.judge_category === null || known.has(i.judge_category),
          `item ${i.id} shows category ${i.judge_category}, not one annotate accepts`,
        );
      // An item queued before categories were unified shows a code check's finding kind, and
      // one decided by a custom evaluator a name no list knows: the template still carries
      // only accepted categories.
      await stack.db
        .updateTable('annotation_items')
        .set({ judge_label: 'fail', judge_category: 'wrong_tool' })
        .where('id', '=', items[0]!.id)
        .execute();
      await stack.db
        .updateTable('annotation_items')
        .set({ judge_label: 'fail', judge_category: 'my_custom_check' })
        .where('id', '=', items[1]!.id)
        .execute();

      // tara writes the template and submits it exactly as written.
      const taraFile = path.join(dir, 'tara.json');
      assert.equal(await writeQueueTemplate(stack.db, cycleId, taraFile, { reviewer: 'tara' }), items.length);
      const written = JSON.parse(readFileSync(taraFile, 'utf8')) as {
        reviewer: string;
        labels: {
          itemId: string;
          verdict: string;
          category?: string;
          slices?: string[];
          expected?: unknown;
        }[];
      };
      assert.equal(written.reviewer, 'tara');
      const categoryOf = (id: string) => written.labels.find((l) => l.itemId === id)?.category;
      assert.equal(categoryOf(items[0]!.id), 'tool_selection');
      assert.equal(categoryOf(items[1]!.id), 'other');
      for (const l of written.labels) {
        assert.ok(['pass', 'fail'].includes(l.verdict));
        assert.ok(l.category === undefined || known.has(l.category), `template category ${l.category}`);
      }
      // The person submitting is who the credentials say; a file signed by someone else is refused.
      await assert.rejects(
        submitBatchFile(stack.db, client, taraFile, { reviewer: 'uma' }),
        /signed by reviewer "tara", but you are uma/,
      );
      const unchanged = await submitBatchFile(stack.db, client, taraFile, { reviewer: 'tara' });
      assert.deepEqual(unchanged.errors, [], 'the template as written is accepted');
      assert.deepEqual([unchanged.stored, unchanged.complete], [items.length, false]);
      const stored = await stack.db
        .selectFrom('annotations')
        .select(['item_id', 'category', 'comment', 'slices'])
        .where('reviewer', '=', 'tara')
        .where(
          'item_id',
          'in',
          items.map((i) => i.id),
        )
        .execute();
      assert.equal(stored.find((a) => a.item_id === items[0]!.id)?.category, 'tool_selection');
      assert.ok(stored.every((a) => a.comment === null && a.slices.length === 0));

      // uma flags as adversarial every other item that becomes a dataset example (in a
      // prompt-fixable cluster; she writes the step the agent should have taken) and whose
      // traffic did not tag it adversarial already; she leaves the rest as written.
      const clusters = await stack.db
        .selectFrom('clusters')
        .select(['id', 'intervention'])
        .where('cycle_id', '=', cycleId)
        .execute();
      const promptFixable = (clusterId: string | null) =>
        clusterId === null || clusters.some((c) => c.id === clusterId && c.intervention === 'prompt');
      const exampleOf = (item: (typeof items)[number]) => {
        const request = ChatMessage.array()
          .parse((item.input as { messages: unknown }).messages)
          .map((m) => m.content)
          .join('\n');
        return findExample(stack.scenario, request) ?? assert.fail(`no scenario example for ${item.id}`);
      };
      const taggedByTraffic = new Set(
        items.filter((i) => exampleOf(i).tags.includes('adversarial')).map((i) => i.trace_id),
      );
      const umaFile = path.join(dir, 'uma.json');
      await writeQueueTemplate(stack.db, cycleId, umaFile, { reviewer: 'uma' });
      const edited = JSON.parse(readFileSync(umaFile, 'utf8')) as typeof written;
      const flagged = new Set<string>();
      let eligible = 0;
      for (const label of edited.labels) {
        const item = items.find((i) => i.id === label.itemId)!;
        if (!promptFixable(item.cluster_id) || taggedByTraffic.has(item.trace_id)) continue;
        if (eligible++ % 2 !== 0) continue;
        label.slices = ['adversarial'];
        label.expected = exampleOf(item).expected;
        flagged.add(item.trace_id);
      }
      writeFileSync(umaFile, JSON.stringify(edited));
      const second = await submitBatchFile(stack.db, client, umaFile, { reviewer: 'uma' });
      assert.deepEqual(second.errors, []);
      assert.deepEqual([second.stored, second.complete], [items.length, true]);

      await waitForStage(
        client,
        cycleId,
        ['optimizing', 'gating', 'awaiting_approval', 'rolling_out', 'done'],
        120_000,
      );
      const version = await stack.db
        .selectFrom('dataset_versions')
        .select('id')
        .where('cycle_id', '=', cycleId)
        .executeTakeFirstOrThrow();
      const examples = await stack.db
        .selectFrom('dataset_examples')
        .select(['trace_id', 'slices'])
        .where('dataset_version_id', '=', version.id)
        .where('cycle_id', '=', cycleId)
        .execute();
      const queued = new Set(items.map((i) => i.trace_id));
      const fromQueue = examples.filter((e) => e.trace_id !== null && queued.has(e.trace_id));
      assert.ok(flagged.size > 0, 'some queued item was flagged');
      for (const traceId of flagged) {
        const example = fromQueue.find((e) => e.trace_id === traceId);
        assert.ok(example, `flagged trace ${traceId} became a dataset example`);
        assert.ok(
          example.slices.includes('adversarial'),
          `slices of ${traceId}: ${example.slices.join(', ')}`,
        );
      }
      for (const e of fromQueue.filter((x) => !flagged.has(x.trace_id!) && !taggedByTraffic.has(x.trace_id!)))
        assert.ok(!e.slices.includes('adversarial'), `unflagged ${e.trace_id} carries no flag`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await client.workflow
        .getHandle(cycleId)
        .terminate('test done')
        .catch(() => undefined);
    }
  });
});
