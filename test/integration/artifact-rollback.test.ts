import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createScoreActivities } from '../../activities/score-traces.js';
import { artifactHistory, listArtifacts } from '../../registry/artifact-listing-service.js';
import { rollbackArtifact, setAgentConfig, setRubric } from '../../registry/artifact-service.js';
import { rubricFor, rubricSchemaName } from '../../evaluation/judge-rubrics.js';
import { agentConfig, agentConfigVersions, ensureAgent } from '../../registry/store/agent-repository.js';
import { activeDatasetVersion } from '../../registry/store/artifact-repository.js';
import type { Db } from '../../db/connection.js';
import { createPromptVersion, labelledVersion } from '../../registry/store/prompt-repository.js';
import { moveLabel } from '../../registry/label-move-service.js';
import { activeRubric } from '../../evaluation/store/rubric-repository.js';
import { TraceWriter } from '../../traces/store/trace-writer.js';
import type { ChatRequest, ChatResponse, LlmClient } from '../../llm/llm-client.js';
import { TraceRecord } from '../../schemas/trace.js';
import { loadTaxonomy } from '../../workers/load-taxonomy.js';
import { startTestDatabase } from '../helpers/test-stack.js';
import { UserError } from '../../schemas/user-error.js';

interface Received {
  path: string;
  body: { text: string; event: string; data: Record<string, unknown> };
}

/** A local chat webhook: records what it is sent; `/down` answers 500. */
async function startReceiver(): Promise<{ server: Server; url: string; received: Received[] }> {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      received.push({ path: req.url ?? '', body: JSON.parse(body) as Received['body'] });
      res.writeHead(req.url === '/down' ? 500 : 200).end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return { server, url: `http://127.0.0.1:${port}`, received };
}

const who = { actor: 'ann@example.com', reason: 'test' };

async function count(
  db: Db,
  table: 'agent_config_versions' | 'audit_log' | 'rubric_versions',
  agent?: string,
) {
  let q = db.selectFrom(table).select((eb) => eb.fn.countAll<string>().as('n'));
  if (agent && table !== 'audit_log') q = q.where('agent_id', '=', agent);
  return Number((await q.executeTakeFirstOrThrow()).n);
}

/** Asserts the call is refused as a user error whose message matches, and returns nothing. */
async function refused(call: Promise<unknown>, message: RegExp): Promise<void> {
  await assert.rejects(call, (e: unknown) => {
    assert.ok(e instanceof UserError, `expected a UserError, got ${String(e)}`);
    assert.match(e.message, message);
    return true;
  });
}

async function addDatasetVersion(db: Db, agent: string, version: number): Promise<string> {
  const id = `${agent}-dataset-v${version}`;
  await db
    .insertInto('dataset_versions')
    .values({ id, agent_id: agent, version, cycle_id: null, published_at: new Date() })
    .execute();
  return id;
}

describe('independent, versioned rollback of artifacts', () => {
  let database: { db: Db; teardown(): Promise<void> };
  let db: Db;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;

  before(async () => {
    database = await startTestDatabase();
    db = database.db;
    receiver = await startReceiver();
  });
  after(async () => {
    await new Promise((resolve) => receiver?.server.close(resolve));
    await database?.teardown();
  });

  it('versions every configuration change, and an unchanged configuration writes none', async () => {
    await ensureAgent(db, 'versions', { sampling: { rate: 0.1 } }, 'ops', 'registered');
    const first = await agentConfigVersions(db, 'versions');
    assert.deepEqual(
      first.map((v) => [v.version, v.createdBy, v.reason]),
      [[1, 'ops', 'registered']],
    );

    const set = await setAgentConfig(db, {
      agent: 'versions',
      section: 'sampling',
      value: { rate: 0.2 },
      ...who,
    });
    assert.equal(set.update.to, 2);
    assert.deepEqual(set.update.sections, ['sampling']);
    assert.equal((await agentConfig(db, 'versions')).sampling.rate, 0.2);

    const same = await setAgentConfig(db, {
      agent: 'versions',
      section: 'sampling',
      value: { rate: 0.2 },
      ...who,
    });
    assert.equal(same.result, null);
    assert.equal(same.update.changed, false);
    const all = await agentConfigVersions(db, 'versions');
    assert.equal(all.length, 2);
    // Version 1 is immutable: it still holds the first rate.
    assert.equal((all[0]!.config.sampling as { rate: number }).rate, 0.1);
  });

  it('gives an agent registered by trace ingest (no versions) a baseline version before its first change', async () => {
    await db.insertInto('agents').values({ id: 'ingested', config: '{"tools": []}' }).execute();
    await setAgentConfig(db, { agent: 'ingested', section: 'retentionDays', value: 7, ...who });
    const versions = await agentConfigVersions(db, 'ingested');
    assert.deepEqual(
      versions.map((v) => [v.version, v.createdBy]),
      [
        [1, 'system'],
        [2, who.actor],
      ],
    );
    assert.deepEqual(versions[0]!.config, { tools: [] });
    assert.equal((await agentConfig(db, 'ingested')).retentionDays, 7);
  });

  it('rolls the sampling policy back without undoing a later approver change, audited and announced', async () => {
    await ensureAgent(db, 'independent', { notifications: { webhookUrl: `${receiver.url}/hook` } });
    await setAgentConfig(db, { agent: 'independent', section: 'sampling', value: { rate: 0.5 }, ...who });
    await setAgentConfig(db, {
      agent: 'independent',
      section: 'approval',
      value: { approvers: ['bob@example.com'], requiredApprovals: 1 },
      ...who,
    });
    const before = receiver.received.length;

    const { change, delivery } = await rollbackArtifact(db, {
      kind: 'policy',
      agent: 'independent',
      name: 'sampling',
      actor: 'carol@example.com',
      reason: 'the higher rate flooded reviewers',
    });

    // Sampling's previous value came from version 1 (the default rate); approval stays.
    assert.equal(change.from, 2);
    assert.equal(change.to, 1);
    const config = await agentConfig(db, 'independent');
    assert.equal(config.sampling.rate, 0.05);
    assert.deepEqual(config.approval.approvers, ['bob@example.com']);
    const versions = await agentConfigVersions(db, 'independent');
    assert.equal(versions.length, 4, 'the rollback is a new version; nothing is rewritten');
    assert.equal(versions[3]!.createdBy, 'carol@example.com');

    const audit = await db
      .selectFrom('audit_log')
      .selectAll()
      .where('artifact', '=', 'policy:independent/sampling')
      .execute();
    assert.equal(audit.length, 1);
    assert.equal(audit[0]!.actor, 'carol@example.com');
    assert.equal(audit[0]!.action, 'policy.rollback');
    assert.deepEqual(audit[0]!.detail, {
      agent: 'independent',
      from: 2,
      to: 1,
      reason: 'the higher rate flooded reviewers',
      section: 'sampling',
      configVersion: { from: 3, to: 4 },
    });

    assert.equal(delivery.delivered, true);
    assert.equal(receiver.received.length, before + 1);
    const notice = receiver.received.at(-1)!;
    assert.equal(notice.path, '/hook');
    assert.equal(notice.body.event, 'artifact_changed');
    assert.match(notice.body.text, /independent: policy sampling rolled back v2 → v1/);
    assert.match(notice.body.text, /carol@example.com/);
    assert.match(notice.body.text, /flooded reviewers/);

    const history = await artifactHistory(db, 'independent', 'policy', 'sampling');
    assert.deepEqual(
      history.map((h) => [h.version, h.current]),
      [
        [1, false],
        [2, false],
        [4, true],
      ],
    );
  });

  it('rolls the optimizer configuration back on its own, to a named version', async () => {
    await ensureAgent(db, 'optimizer', { optimizer: { name: 'gepa' } });
    await setAgentConfig(db, {
      agent: 'optimizer',
      section: 'optimizer',
      value: { name: 'protegi' },
      ...who,
    });
    await setAgentConfig(db, { agent: 'optimizer', section: 'retentionDays', value: 9, ...who });
    await rollbackArtifact(db, { kind: 'optimizer', agent: 'optimizer', to: 1, ...who });
    const config = await agentConfig(db, 'optimizer');
    assert.equal(config.optimizer?.name, 'gepa');
    assert.equal(config.retentionDays, 9);
  });

  it('a failing webhook does not block the rollback, and the failed delivery is recorded', async () => {
    await ensureAgent(db, 'offline', { notifications: { webhookUrl: `${receiver.url}/down` } });
    await setAgentConfig(db, { agent: 'offline', section: 'retentionDays', value: 10, ...who });
    const { delivery } = await rollbackArtifact(db, {
      kind: 'policy',
      agent: 'offline',
      name: 'retentionDays',
      ...who,
    });
    assert.equal(delivery.delivered, false);
    assert.match(delivery.error ?? '', /HTTP 500/);
    assert.equal((await agentConfig(db, 'offline')).retentionDays, 30);
    const recorded = await db
      .selectFrom('notifications')
      .selectAll()
      .where('agent_id', '=', 'offline')
      .where('event', '=', 'artifact_changed')
      .execute();
    assert.equal(recorded.filter((n) => !n.delivered).length, 2);
  });

  it('judges with the rubric version the agent points at: set, roll back, forward again', async () => {
    await ensureAgent(db, 'rubrics');
    const builtIn = rubricFor('task_completion');
    assert.deepEqual(await activeRubric(db, 'rubrics', 'task_completion'), builtIn);

    const stricter = {
      scale: 'binary',
      title: 'Task completion (strict)',
      question: 'Did the agent complete the task exactly as the policy requires?',
      criteria: ['fail on any deviation from policy'],
    };
    const saved = await setRubric(db, {
      agent: 'rubrics',
      dimension: 'task_completion',
      rubric: stricter,
      ...who,
    });
    assert.equal(saved?.change.from, 1);
    assert.equal(saved?.change.to, 2);
    const v2 = await activeRubric(db, 'rubrics', 'task_completion');
    assert.equal(v2.question, stricter.question);
    assert.equal(v2.version, 2);
    // The version is part of the structured-output schema name, so answers say which rubric produced them.
    assert.equal(rubricSchemaName(v2), 'judge_task_completion_v2');
    // Another dimension and another agent keep the built-in.
    assert.deepEqual(await activeRubric(db, 'rubrics', 'tool_selection'), rubricFor('tool_selection'));
    assert.deepEqual(await activeRubric(db, 'versions', 'task_completion'), builtIn);

    const back = await rollbackArtifact(db, {
      kind: 'rubric',
      agent: 'rubrics',
      name: 'task_completion',
      ...who,
    });
    assert.deepEqual([back.change.from, back.change.to], [2, 1]);
    assert.deepEqual(await activeRubric(db, 'rubrics', 'task_completion'), builtIn);

    await rollbackArtifact(db, { kind: 'rubric', agent: 'rubrics', name: 'task_completion', to: 2, ...who });
    assert.equal((await activeRubric(db, 'rubrics', 'task_completion')).question, stricter.question);

    const audit = await db
      .selectFrom('audit_log')
      .select(['action', 'detail'])
      .where('artifact', '=', 'rubric:rubrics/task_completion')
      .orderBy('id')
      .execute();
    assert.deepEqual(
      audit.map((a) => [a.action, (a.detail as { from: number }).from, (a.detail as { to: number }).to]),
      [
        ['rubric.set', 1, 2],
        ['rubric.rollback', 2, 1],
        ['rubric.rollback', 1, 2],
      ],
    );
  });

  it('scores with the active rubric version and records it on every judge score', async () => {
    await ensureAgent(db, 'scored', {
      evaluation: { judge: { dimensions: ['tool_selection'] }, cascade: { auditShare: 0 } },
    });
    await setRubric(db, {
      agent: 'scored',
      dimension: 'tool_selection',
      rubric: { ...rubricFor('tool_selection'), question: 'Was every tool call needed, and none missing?' },
      ...who,
    });
    const record = TraceRecord.parse({
      id: 'scored-t1',
      agent: 'scored',
      timestamp: new Date().toISOString(),
      input: { messages: [{ role: 'user', content: 'cancel my flight' }] },
      output: { action: 'cancel_reservation', arguments: {} },
    });
    await new TraceWriter(db).write([record]);
    await db
      .insertInto('cycles')
      .values({
        id: 'cycle-scored',
        agent_id: 'scored',
        run_id: 'r',
        stage: 'score',
        outcome: 'running',
        window_start: new Date(Date.now() - 86_400_000),
        window_end: new Date(),
        input: '{}',
      })
      .execute();
    await db
      .insertInto('samples')
      .values({
        cycle_id: 'cycle-scored',
        trace_id: 'scored-t1',
        reason: 'random',
        redacted: JSON.stringify({ input: record.input, output: record.output }),
      })
      .execute();
    // A judge that answers every rubric with a failing verdict and remembers what it was asked.
    const asked: ChatRequest[] = [];
    const judge: LlmClient = {
      model: 'recording-judge',
      chat(request): Promise<ChatResponse> {
        asked.push(request);
        const content = JSON.stringify({
          verdict: 'fail',
          failure_category: null,
          failing_step: null,
          rationale: 'no lookup first',
        });
        return Promise.resolve({
          content,
          toolCalls: [],
          usage: { promptTokens: 1, completionTokens: 1 },
          cached: false,
        });
      },
      embed: () => Promise.reject(new Error('the judge does not embed')),
    };
    const activities = createScoreActivities({
      db,
      llm: { agent: judge, judge, teacher: judge, embedder: null },
      llmConcurrency: 1,
      taxonomy: loadTaxonomy(),
    });
    await new MockActivityEnvironment().run((args) => activities.scoreSample(args), {
      cycleId: 'cycle-scored',
      agent: 'scored',
      seed: 1,
    });
    assert.equal(asked.length, 1);
    assert.equal(asked[0]!.jsonSchema?.name, 'judge_tool_selection_v2');
    assert.match(asked[0]!.messages[0]!.content ?? '', /Was every tool call needed, and none missing\?/);
    const scores = await db
      .selectFrom('scores')
      .select(['evaluator', 'rubric_version'])
      .where('cycle_id', '=', 'cycle-scored')
      .where('source', '=', 'judge')
      .execute();
    assert.deepEqual(scores, [{ evaluator: 'judge:tool_selection', rubric_version: 2 }]);
  });

  it('points the next cycle at an earlier dataset version until a newer one is built', async () => {
    await ensureAgent(db, 'data');
    assert.equal(await activeDatasetVersion(db, 'data'), null);
    for (const v of [1, 2, 3]) await addDatasetVersion(db, 'data', v);
    assert.equal((await activeDatasetVersion(db, 'data'))?.version, 3);

    const { change } = await rollbackArtifact(db, { kind: 'dataset', agent: 'data', ...who });
    assert.deepEqual([change.from, change.to], [3, 2]);
    const pinned = await activeDatasetVersion(db, 'data');
    assert.equal(pinned?.version, 2);
    assert.equal(pinned?.pinned, true);

    await rollbackArtifact(db, { kind: 'dataset', agent: 'data', to: 1, ...who });
    assert.equal((await activeDatasetVersion(db, 'data'))?.version, 1);

    // The next cycle builds version 4 on the active version; from then on 4 is active.
    await addDatasetVersion(db, 'data', 4);
    const after = await activeDatasetVersion(db, 'data');
    assert.deepEqual([after?.version, after?.pinned], [4, false]);

    const history = await artifactHistory(db, 'data', 'dataset');
    assert.deepEqual(
      history.map((h) => [h.version, h.current]),
      [
        [1, false],
        [2, false],
        [3, false],
        [4, true],
      ],
    );
    const audit = await db
      .selectFrom('audit_log')
      .select('detail')
      .where('artifact', '=', 'dataset:data')
      .execute();
    assert.equal(audit.length, 2);
  });

  it('an unpublished version is never active, and a retried build finds the same base', async () => {
    await ensureAgent(db, 'retry');
    await addDatasetVersion(db, 'retry', 1);
    await addDatasetVersion(db, 'retry', 2);
    await rollbackArtifact(db, { kind: 'dataset', agent: 'retry', ...who });
    await db
      .insertInto('cycles')
      .values({
        id: 'cycle-retry',
        agent_id: 'retry',
        run_id: 'r',
        stage: 'annotate',
        outcome: 'running',
        window_start: new Date('2026-01-01'),
        window_end: new Date('2026-01-08'),
        input: '{}',
      })
      .execute();
    await db
      .insertInto('dataset_versions')
      .values({ id: 'retry-dataset-v3', agent_id: 'retry', version: 3, cycle_id: 'cycle-retry' })
      .execute();
    // A version still being built (unpublished) neither supersedes the rollback nor is a target.
    assert.equal((await activeDatasetVersion(db, 'retry'))?.version, 1);
    await refused(
      rollbackArtifact(db, { kind: 'dataset', agent: 'retry', to: 3, ...who }),
      /has no version 3/,
    );
    await db
      .updateTable('dataset_versions')
      .set({ published_at: new Date() })
      .where('id', '=', 'retry-dataset-v3')
      .execute();
    assert.equal((await activeDatasetVersion(db, 'retry'))?.version, 3);
    // A retry of that cycle's build leaves its own version out: its base is still version 1.
    assert.equal((await activeDatasetVersion(db, 'retry', { excludingCycle: 'cycle-retry' }))?.version, 1);
  });

  it('rolls a prompt back through the prompt registry', async () => {
    await ensureAgent(db, 'prompted');
    const v1 = await createPromptVersion(db, 'prompted', 'You are helpful.', 'seed', null);
    await moveLabel(db, 'prompted', 'production', v1.id, 'ops', 'seed');
    const v2 = await createPromptVersion(db, 'prompted', 'You are very helpful.', 'manual', null);
    await moveLabel(db, 'prompted', 'production', v2.id, 'ops', 'release');

    const { change } = await rollbackArtifact(db, { kind: 'prompt', agent: 'prompted', ...who });
    assert.deepEqual([change.from, change.to], [2, 1]);
    assert.equal((await labelledVersion(db, 'prompted', 'production'))?.version, 1);
    await refused(
      rollbackArtifact(db, { kind: 'prompt', agent: 'prompted', name: 'someone-else', ...who }),
      /no prompt named "someone-else"/,
    );
  });

  it('lists every artifact kind with its current version', async () => {
    const list = await listArtifacts(db, 'rubrics');
    const kinds = new Set(list.map((a) => a.kind));
    for (const k of ['config', 'rubric', 'dataset', 'policy', 'optimizer'])
      assert.ok(kinds.has(k as never), k);
    const rubric = list.find((a) => a.kind === 'rubric' && a.name === 'task_completion');
    assert.deepEqual([rubric?.current, rubric?.pointer], [2, 'active pointer']);
    assert.ok(list.some((a) => a.kind === 'policy' && a.name === 'sampling' && a.current === 1));
  });

  describe('bad input is refused with a clear error and changes nothing', () => {
    const snapshot = async (agent: string) => ({
      versions: await count(db, 'agent_config_versions', agent),
      rubrics: await count(db, 'rubric_versions', agent),
      audit: await count(db, 'audit_log'),
      config: JSON.stringify(await agentConfig(db, agent)),
      rubric: JSON.stringify(await activeRubric(db, agent, 'task_completion')),
      dataset: (await activeDatasetVersion(db, agent))?.id ?? null,
    });

    it('unknown kind, section, dimension, agent or version; nothing earlier; invalid config or rubric', async () => {
      await ensureAgent(db, 'strict');
      await addDatasetVersion(db, 'strict', 1);
      await setAgentConfig(db, { agent: 'strict', section: 'retentionDays', value: 14, ...who });
      const before = await snapshot('strict');
      const cases: [() => Promise<unknown>, RegExp][] = [
        [
          () => rollbackArtifact(db, { kind: 'model', agent: 'strict', ...who }),
          /Unknown artifact kind "model"; use one of prompt, rubric/,
        ],
        [
          () => rollbackArtifact(db, { kind: 'policy', agent: 'strict', name: 'vibes', ...who }),
          /Unknown policy section "vibes".*Sections: .*sampling/,
        ],
        [() => rollbackArtifact(db, { kind: 'policy', agent: 'strict', ...who }), /Name the policy section/],
        [
          () => rollbackArtifact(db, { kind: 'rubric', agent: 'strict', name: 'vibes', ...who }),
          /Unknown rubric dimension "vibes"/,
        ],
        [
          () => rollbackArtifact(db, { kind: 'policy', agent: 'nobody', name: 'sampling', ...who }),
          /Unknown agent "nobody"/,
        ],
        [
          () =>
            rollbackArtifact(db, { kind: 'policy', agent: 'strict', name: 'retentionDays', to: 99, ...who }),
          /no configuration version 99/,
        ],
        [() => rollbackArtifact(db, { kind: 'dataset', agent: 'strict', to: 7, ...who }), /has no version 7/],
        [
          () => rollbackArtifact(db, { kind: 'policy', agent: 'strict', name: 'sampling', ...who }),
          /no earlier one to roll back to/,
        ],
        [
          () => rollbackArtifact(db, { kind: 'rubric', agent: 'strict', name: 'task_completion', ...who }),
          /no version before 1/,
        ],
        [() => rollbackArtifact(db, { kind: 'dataset', agent: 'strict', ...who }), /no version before 1/],
        [
          () =>
            rollbackArtifact(db, { kind: 'policy', agent: 'strict', name: 'retentionDays', to: 2, ...who }),
          /already as in configuration version 2/,
        ],
        [
          () => rollbackArtifact(db, { kind: 'policy', agent: 'strict', name: 'sampling', to: 0, ...who }),
          /--to must be a version number/,
        ],
        [
          () =>
            rollbackArtifact(db, {
              kind: 'policy',
              agent: 'strict',
              name: 'sampling',
              actor: ' ',
              reason: 'x',
            }),
          /--actor/,
        ],
        [
          () => setAgentConfig(db, { agent: 'strict', section: 'sampling', value: { rate: 5 }, ...who }),
          /would not be valid.*sampling\.rate/,
        ],
        [
          () => setAgentConfig(db, { agent: 'strict', value: { retentionDays: -1 }, ...who }),
          /retentionDays/,
        ],
        [
          () => setAgentConfig(db, { agent: 'strict', section: 'colour', value: 1, ...who }),
          /Unknown configuration section "colour"/,
        ],
        [
          () =>
            setRubric(db, {
              agent: 'strict',
              dimension: 'task_completion',
              rubric: { scale: 'binary', title: 'T', question: 'Q?', criteria: [] },
              ...who,
            }),
          /rubric is not valid.*criteria/,
        ],
        [
          () =>
            setRubric(db, {
              agent: 'strict',
              dimension: 'task_completion',
              rubric: { ...rubricFor('tool_selection') },
              ...who,
            }),
          /for dimension "tool_selection"/,
        ],
      ];
      // One at a time: each must fail on its own, not because another call holds a lock.
      for (const [call, message] of cases) await refused(call(), message);
      assert.deepEqual(await snapshot('strict'), before);
    });
  });
});
