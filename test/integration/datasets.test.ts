import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { annotationItems, approveCycle, startCycle, submitAnnotations } from '../../cycles/cycle-service.js';
import { asPerson } from '../helpers/test-decision-keys.js';
import { personWithToken } from '../helpers/api-credentials.js';
import type { ApiServer } from '../../api/http-server.js';
import { reaches } from '../../registry/lineage-graph.js';
import { importExamples, retireExamples } from '../../datasets/dataset-service.js';
import {
  diffVersions,
  exportVersion,
  newestPublishedVersionId,
  showVersion,
} from '../../datasets/store/dataset-repository.js';
import {
  carriedExamples,
  ensureDataset,
  lockDataset,
  writeVersion,
  type DraftExample,
} from '../../datasets/store/dataset-version-writer.js';
import { createDatasetActivities } from '../../activities/dataset-builder.js';
import { updateAgentConfig } from '../../registry/store/agent-repository.js';
import { DatasetPolicy } from '../../schemas/dataset-policy.js';
import { loadTaxonomy } from '../../workers/load-taxonomy.js';
import { lineageOf } from '../../registry/store/lineage-repository.js';
import { ChatMessage } from '../../schemas/trace.js';
import { waitForStage } from '../helpers/cycle-driver.js';
import { startSeededStack, stopSeededStack, type TestStack } from '../helpers/test-stack.js';
import { findExample } from '../simulator/simulated-models.js';

const line = (v: unknown) => JSON.stringify(v);
const msg = (content: string) => ({ messages: [{ role: 'user', content }] });

describe('versioned datasets with lineage on real PostgreSQL and Temporal', () => {
  let stack: TestStack;
  let api: ApiServer;
  let first: string;

  before(async () => ({ stack, api } = await startSeededStack({ traces: 240, seed: 5 })));
  after(() => stopSeededStack({ stack, api }));

  it('imports a file with malformed lines as a new version, keeping every good line', async () => {
    const text = [
      line({
        key: 'imp-1',
        input: 'Please cancel reservation AAA111',
        expected: { action: 'cancel_reservation' },
        split: 'eval',
        tags: ['adversarial'],
      }),
      line({
        key: 'imp-2',
        input: 'Status of flight UA 7?',
        expected: { action: 'get_flight_status', arguments: { flight_number: 'UA7' } },
      }),
      '{"key": "broken"',
      line({
        key: 'imp-3',
        input: msg('Add a bag to reservation BBB222'),
        split: 'test',
        expected: { action: 'respond' },
      }),
      line({ key: 'imp-4', input: 'Book JFK to LAX for user ann_1' }),
      line({
        key: 'imp-5',
        input: msg('I need a human agent about my damaged bag'),
        expected: { action: 'transfer_to_human_agents' },
        split: 'holdout',
      }),
    ].join('\n');
    const result = await importExamples(stack.db, {
      agent: 'demo',
      dataset: 'imported',
      text,
      createdBy: 'tess',
    });
    assert.deepEqual(
      result.errors.map((e) => e.line),
      [3, 4, 5],
    );
    assert.match(result.errors[1]!.error, /split must be one of train, eval, holdout/);
    assert.match(result.errors[2]!.error, /missing expected action/);
    assert.equal(result.imported, 3);
    first = result.version!.datasetVersionId;
    assert.equal(first, 'demo-dataset-imported-v1');
    const shown = await showVersion(stack.db, first);
    assert.ok(shown.publishedAt, 'an import is published at once');
    assert.equal(shown.splits.eval + shown.splits.holdout + shown.splits.train, 3);
    const exported = await exportVersion(stack.db, first);
    const imp1 = exported.find((e) => e.key === 'imp-1')!;
    assert.equal(imp1.split, 'eval', 'a split named in the file is kept for a new key');
    assert.deepEqual(imp1.slices, ['adversarial']);
    assert.equal(imp1.lineage.source, 'import');
    assert.equal(exported.find((e) => e.key === 'imp-5')!.split, 'holdout');
  });

  it('rejects any direct change to a published version or its examples in Postgres itself', async () => {
    const { db } = stack;
    const rejects = (query: ReturnType<typeof sql>) =>
      assert.rejects(query.execute(db), /is published/, query.compile(db).sql);
    await rejects(sql`update dataset_examples set split = 'train' where dataset_version_id = ${first}`);
    await rejects(sql`delete from dataset_examples where dataset_version_id = ${first}`);
    await rejects(
      sql`insert into dataset_examples (id, dataset_version_id, example_key, split, input, expected)
          values ('sneaky', ${first}, 'sneaky', 'eval', '{}', '{}')`,
    );
    await rejects(sql`update dataset_versions set note = 'rewritten' where id = ${first}`);
    await rejects(sql`delete from dataset_versions where id = ${first}`);
    const after = await db
      .selectFrom('dataset_examples')
      .select('split')
      .where('dataset_version_id', '=', first)
      .execute();
    assert.equal(after.length, 3, 'nothing changed');
  });

  it('retires an example in a new version, leaves the old one intact, and diffs the two', async () => {
    const { db } = stack;
    const { version, retired } = await retireExamples(db, {
      ref: first,
      exampleIds: ['imp-2'],
      createdBy: 'tess',
      now: new Date(),
    });
    assert.deepEqual(
      retired.map((r) => r.key),
      ['imp-2'],
    );
    assert.equal(version.datasetVersionId, 'demo-dataset-imported-v2');
    assert.equal((await exportVersion(db, first)).length, 3, 'the parent keeps all its examples');
    const child = await exportVersion(db, version.datasetVersionId);
    assert.deepEqual(
      child.map((e) => e.key),
      ['imp-1', 'imp-5'],
    );
    assert.equal(child.find((e) => e.key === 'imp-1')!.split, 'eval', 'splits carry over');
    await assert.rejects(
      retireExamples(db, { ref: first, exampleIds: ['nope'], createdBy: 'tess', now: new Date() }),
      /Not in demo-dataset-imported-v1: nope/,
    );

    const retireDiff = await diffVersions(db, first, version.datasetVersionId);
    assert.deepEqual(retireDiff.removed, [
      { key: 'imp-2', split: retireDiff.removed[0]!.split, reason: 'retired by request' },
    ]);
    assert.equal(retireDiff.added.length + retireDiff.changed.length + retireDiff.splitMoves.length, 0);
    assert.equal(retireDiff.unchanged, 2);

    // A re-import changes one example (its split stays, though the file asks for another) and adds one.
    const again = await importExamples(db, {
      agent: 'demo',
      dataset: 'imported',
      createdBy: 'tess',
      text: [
        line({
          key: 'imp-1',
          input: 'Please cancel reservation AAA111',
          expected: { action: 'respond' },
          split: 'train',
        }),
        line({
          key: 'imp-6',
          input: 'Change my seat on reservation CCC333',
          expected: { action: 'respond' },
        }),
      ].join('\n'),
    });
    assert.deepEqual(again.keptSplit, ['imp-1']);
    const d = await diffVersions(db, version.datasetVersionId, again.version!.datasetVersionId);
    assert.deepEqual(
      d.added.map((a) => a.key),
      ['imp-6'],
    );
    assert.deepEqual(
      d.changed,
      [{ key: 'imp-1', fields: ['content', 'slices'] }],
      'the new line names no slices',
    );
    assert.deepEqual(d.removed, []);
    assert.equal(d.unchanged, 1);
  });

  it('traces a released prompt back to the sampled traces and a trace forward to the release decision', async () => {
    const { db } = stack;
    const client = stack.env.client;
    const worker = await stack.newWorker();
    const cycleId = `cycle-demo-datasets-${Date.now()}`;
    await worker.runUntil(async () => {
      await startCycle(client, {
        taskQueue: stack.taskQueue,
        workflowId: cycleId,
        input: {
          agent: 'demo',
          seed: 3,
          sampleRate: 0.4,
          maxAnnotationItems: 30,
          annotationDeadlineSeconds: 120,
          approvalDeadlineSeconds: 120,
          // A teacher-call cap as in full-cycle: uncapped, GEPA's reflections on tool
          // descriptions the minibatch never used can run to hundreds of calls, each an
          // activity, and decide whether optimize ends within the wait.
          optimizer: { budget: { maxRollouts: 600, maxTeacherCalls: 60 } },
          // This test is about lineage, not the gate's quality bar: a lenient gate lets the
          // cycle reach the approval whatever the simulator's noise did to this eval split.
          // No gain is required either: at 20 eval examples the interval decides, and GEPA's
          // candidate under the teacher-call cap sometimes gains too little to clear it.
          gate: {
            assertions: [{ dimension: 'outcome_match', metric: 'mean', threshold: 0.3 }],
            nonRegression: { tolerance: 0.2 },
            requireImprovement: null,
          },
        },
      });
      const atAnnotation = await waitForStage(client, cycleId, ['awaiting_annotation', 'done']);
      assert.equal(atAnnotation.stage, 'awaiting_annotation', `cycle ended early: ${atAnnotation.outcome}`);
      const items = await annotationItems(db, cycleId);
      const labels = items.map((item) => {
        const request = ChatMessage.array()
          .parse((item.input as { messages: unknown }).messages)
          .map((m) => m.content)
          .join('\n');
        const example = findExample(stack.scenario, request)!;
        const did = (item.output as { action: string }).action;
        return {
          itemId: item.id,
          verdict: did === example.expected.action ? ('pass' as const) : ('fail' as const),
          expected: example.expected,
          comment: 'reviewed in the dataset test',
        };
      });
      await submitAnnotations(db, client, cycleId, { reviewer: 'rita', labels });
      const atApproval = await waitForStage(client, cycleId, ['awaiting_approval', 'done'], 400_000);
      assert.equal(
        atApproval.stage,
        'awaiting_approval',
        `gate: ${JSON.stringify(atApproval.gate)} ${atApproval.outcome}`,
      );
      await approveCycle(client, cycleId, { comment: 'ship it' }, asPerson('alice'));
      let decision: { id: string } | undefined;
      for (let i = 0; i < 120 && !decision; i++) {
        decision = await db
          .selectFrom('release_decisions')
          .select('id')
          .where('cycle_id', '=', cycleId)
          .executeTakeFirst();
        if (!decision) await new Promise((r) => setTimeout(r, 250));
      }
      assert.ok(decision, 'the approval is recorded as a release decision');
      // The rollout is another test's subject; stop here.
      await client.workflow.getHandle(cycleId).terminate('dataset test done');

      // The cycle's dataset version: published, split three ways, decontaminated, with the run's examples recorded.
      const version = await db
        .selectFrom('dataset_versions')
        .selectAll()
        .where('cycle_id', '=', cycleId)
        .executeTakeFirstOrThrow();
      assert.ok(version.published_at);
      const shown = await showVersion(db, version.id);
      assert.ok(
        shown.splits.train > 0 && shown.splits.eval > 0 && shown.splits.holdout > 0,
        JSON.stringify(shown.splits),
      );
      assert.ok(
        'runsChecked' in shown.decontamination,
        'the decontamination report is stored with the version',
      );
      assert.ok(
        shown.slices.some((s) => s.slice.startsWith('category:')),
        'cluster categories become slices',
      );
      assert.deepEqual(shown.lineage.runsTrainedOn, [`${cycleId}:opt`]);
      const used = await db
        .selectFrom('optimization_run_examples as u')
        .innerJoin('dataset_examples as e', 'e.id', 'u.example_id')
        .select(['e.split', 'e.trace_id'])
        .where('u.run_id', '=', `${cycleId}:opt`)
        .execute();
      assert.ok(
        used.length > 0 && used.every((u) => u.split === 'train'),
        'the optimizer trained on train only',
      );

      // Backward: decision → gate report → candidate → run → dataset version → train examples → traces.
      const back = (await lineageOf(db, decision.id))!;
      const sampled = new Set(
        (await db.selectFrom('samples').select('trace_id').where('cycle_id', '=', cycleId).execute()).map(
          (s) => s.trace_id,
        ),
      );
      const tracesBack = back.nodes.filter((nd) => nd.kind === 'trace').map((nd) => nd.ref);
      assert.ok(tracesBack.length > 0, 'the decision reaches traces');
      assert.ok(
        tracesBack.every((t) => sampled.has(t)),
        'every trace reached was sampled by the cycle',
      );
      for (const kind of [
        'gate_report',
        'candidate',
        'optimization_run',
        'dataset_version',
        'dataset_example',
      ] as const)
        assert.ok(
          back.nodes.some((nd) => nd.kind === kind),
          `the chain passes a ${kind}`,
        );
      const trace = tracesBack[0]!;
      assert.ok(reaches(back, `trace:${trace}`, `release_decision:${decision.id}`));

      // Forward from that trace: what it became, up to the decision.
      const forward = (await lineageOf(db, trace))!;
      assert.equal(forward.root, `trace:${trace}`);
      assert.ok(
        reaches(forward, `trace:${trace}`, `release_decision:${decision.id}`),
        'the trace reaches the decision',
      );
      assert.ok(forward.nodes.some((nd) => nd.kind === 'sample' && nd.label.includes(cycleId)));

      // The HTTP API serves the same graph and the dataset views, to a viewer.
      const { headers } = await personWithToken(stack.db, 'dataset-reader', 'viewer');
      const res = await fetch(`${api.url}/api/lineage/${encodeURIComponent(decision.id)}`, { headers });
      assert.equal(res.status, 200);
      assert.equal(((await res.json()) as { root: string }).root, `release_decision:${decision.id}`);
      const listed = (await (await fetch(`${api.url}/api/datasets?agent=demo`, { headers })).json()) as {
        versions: { datasetVersionId: string }[];
      };
      assert.ok(listed.versions.some((v) => v.datasetVersionId === version.id));
      assert.equal((await fetch(`${api.url}/api/datasets/${version.id}`, { headers })).status, 200);
      assert.equal((await fetch(`${api.url}/api/lineage/no-such-thing`, { headers })).status, 404);
    });
  });
  it('the policy stalenessDays retires production examples older than that when a cycle builds its version', async () => {
    const { db } = stack;
    const DAY = 86_400_000;
    const draft = (key: string, source: string, days: number): DraftExample => ({
      key,
      traceId: null,
      clusterId: null,
      clusterStableId: null,
      annotationId: null,
      cycleId: null,
      input: msg(`How old is example ${key}?`),
      expected: { action: 'respond' },
      slices: [],
      source,
      createdBy: 'tess',
      createdAt: new Date(Date.now() - days * DAY),
      originVersionId: null,
      gatingExcluded: null,
      requestedSplit: null,
    });
    // The agent's dataset gains examples first added 30 and 2 days ago.
    const base = await db.transaction().execute(async (tx) => {
      const dataset = await ensureDataset(tx, { agent: 'demo' });
      await lockDataset(tx, dataset.id);
      const parent = await newestPublishedVersionId(tx, dataset.id);
      const carried = parent ? await carriedExamples(tx, parent) : [];
      return writeVersion(tx, {
        dataset,
        parentVersionId: parent ?? null,
        cycleId: null,
        createdBy: 'tess',
        note: 'examples of different ages',
        examples: [
          ...carried,
          draft('aged-cycle', 'cycle', 30),
          draft('young-cycle', 'cycle', 2),
          draft('aged-import', 'import', 30),
        ],
        retirements: [],
        policy: DatasetPolicy.parse({}),
      });
    });
    await updateAgentConfig(
      db,
      'demo',
      { patch: { dataset: { stalenessDays: 10 } } },
      'test',
      'labels age out after 10 days',
    );
    const cycleId = `cycle-demo-stale-${Date.now()}`;
    await db
      .insertInto('cycles')
      .values({
        id: cycleId,
        agent_id: 'demo',
        run_id: 'test',
        stage: 'building_dataset',
        outcome: 'running',
        window_start: new Date(Date.now() - 7 * DAY),
        window_end: new Date(),
        input: JSON.stringify({ agent: 'demo' }),
      })
      .execute();
    const activities = createDatasetActivities({
      db,
      llm: stack.llm,
      llmConcurrency: 1,
      taxonomy: loadTaxonomy(),
    });
    const built = await activities.buildDatasetVersion({ cycleId, agent: 'demo', seed: 3 });
    assert.equal(built.retiredStale, 1);
    const diff = await diffVersions(db, base.datasetVersionId, built.datasetVersionId);
    assert.deepEqual(
      diff.removed.map((r) => [r.key, r.reason?.replace(/first added [^,]+/, 'first added T')]),
      [['aged-cycle', 'stale: first added T, more than 10 day(s) ago (dataset policy stalenessDays)']],
    );
    const kept = new Set((await exportVersion(db, built.datasetVersionId)).map((e) => e.key));
    assert.ok(kept.has('young-cycle'), 'younger than stalenessDays');
    assert.ok(kept.has('aged-import'), 'imported examples stay until retired by hand');
    assert.equal(kept.size, base.train + base.eval + base.holdout - 1);
    const again = await activities.buildDatasetVersion({ cycleId, agent: 'demo', seed: 3 });
    assert.equal(again.datasetVersionId, built.datasetVersionId, 'a retried build finds the same version');
  });
});
