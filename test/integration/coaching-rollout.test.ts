import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Worker } from '@temporalio/worker';
import type { ApiServer } from '../../api/http-server.js';
import { FlywheelClient } from '../../client/flywheel-client.js';
import { createCoaching, showCoaching } from '../../coaching/coaching-service.js';
import { situationEmbedderFor } from '../../coaching/situation-embedder.js';
import { approveCycle, startCycle } from '../../cycles/cycle-service.js';
import { createAgentToken } from '../../registry/store/agent-tokens.js';
import { createPromptVersion, labelledVersion } from '../../registry/store/prompt-repository.js';
import { personWithToken } from '../helpers/api-credentials.js';
import { controlRollout, rolloutState, startManualRollout } from '../../release/rollout-service.js';
import { gateReportById } from '../../release/store/gate-report-repository.js';
import { GateReport } from '../../schemas/gate-report.js';
import type { RolloutState } from '../../schemas/rollout-control.js';
import { rolloutWorkflowId } from '../../workflows/workflow-ids.js';
import { waitForStage } from '../helpers/cycle-driver.js';
import { asPerson } from '../helpers/test-decision-keys.js';
import { startSeededStack, stopSeededStack, type TestStack } from '../helpers/test-stack.js';
import { startDemoTraffic } from '../../scripts/demo-traffic.js';

/**
 * A coaching set released like a prompt version: a cycle whose optimizer finds no better
 * prompt still gates the agent's candidate coaching (on the production prompt), an approver
 * releases it, and the staged rollout serves it only to the candidate's share; completion
 * promotes it, a rollback retires it. Real Temporal, Postgres, API and the simulator.
 */
describe('a coaching set through the gate and a staged rollout', () => {
  let stack: TestStack;
  let api: ApiServer;
  let worker: Worker;
  let running: Promise<void>;
  let client: FlywheelClient;
  let agentToken: string;

  before(async () => {
    // The API gets the simulated models (the teacher migrates instructions); it embeds locally.
    ({ stack, api } = await startSeededStack({ traces: 200, seed: 8, apiModels: true }));
    worker = await stack.newWorker();
    running = worker.run();
    const { token } = await createAgentToken(stack.db, {
      agent: 'demo',
      scopes: ['ingest', 'resolve'],
      createdBy: 'test',
    });
    client = new FlywheelClient({ baseUrl: api.url, token });
    agentToken = token;
  });
  after(async () => {
    worker?.shutdown();
    await running;
    await stopSeededStack({ stack, api });
  });

  const coachingDeps = () => ({ db: stack.db, embedder: situationEmbedderFor(stack.llm.embedder) });
  const request = () => stack.scenario.examples.find((e) => e.rule === 'basic_economy_no_changes')!.request;
  const candidateCoaching = async (reply: string) =>
    (
      await createCoaching(
        coachingDeps(),
        'demo',
        {
          situation: 'When a customer asks to move a basic economy flight',
          behaviour: { kind: 'reply', text: reply },
          candidate: true,
        },
        'user:rita',
      )
    ).coaching;

  /** A cycle whose optimizer cannot afford a proposal, on judge labels: only the set is gated. */
  const startSetCycle = (cycleId: string, extra: Record<string, unknown> = {}) =>
    startCycle(stack.env.client, {
      taskQueue: stack.taskQueue,
      workflowId: cycleId,
      input: {
        agent: 'demo',
        seed: 21,
        sampleRate: 0.4,
        maxAnnotationItems: 5,
        annotationDeadlineSeconds: 2,
        optimizer: {
          choice: { name: 'random-search' as const, settings: { proposalsPerCall: 4 } },
          budget: { maxRollouts: 1 },
        },
        // No gain is required of the set here: the eval split may hold no basic-economy
        // request; what is tested is that it travels, not how much it helps.
        gate: { requireImprovement: null },
        ...extra,
      },
    });

  /** That cycle, approved, paused mid-rollout. */
  const cycleToPausedRollout = async (cycleId: string) => {
    await startSetCycle(cycleId, {
      approvalDeadlineSeconds: 120,
      rollout: { steps: [{ setWeight: 50 }, { pause: {} }, { setWeight: 100 }] },
    });
    const atApproval = await waitForStage(stack.env.client, cycleId, ['awaiting_approval', 'done'], 180_000);
    assert.equal(
      atApproval.stage,
      'awaiting_approval',
      `the set was not gated through: ${atApproval.outcome} ${JSON.stringify(atApproval.gate)}`,
    );
    const report = await gateReportById(stack.db, `${cycleId}:gate`);
    assert.ok(report?.candidate_version_id, 'the gate released a version for the set');
    await approveCycle(stack.env.client, cycleId, { comment: 'coaching set' }, asPerson('alice'));
    const rolloutId = rolloutWorkflowId(cycleId);
    const deadline = Date.now() + 60_000;
    let state: RolloutState | undefined;
    while (Date.now() < deadline) {
      state = await rolloutState(stack.env.client, rolloutId).catch(() => undefined);
      if (state?.phase === 'paused') break;
      await new Promise((r) => setTimeout(r, 250));
    }
    assert.equal(state?.phase, 'paused', `rollout never paused: ${JSON.stringify(state)}`);
    return {
      rolloutId,
      report: GateReport.parse(report.report),
      candidateVersionId: report.candidate_version_id,
    };
  };

  /** Recall over HTTP as the TS client does, for a conversation served `promptVersionId`. */
  const recalled = async (promptVersionId?: string) =>
    (
      await client.recallCoaching('demo', [{ role: 'user', content: request() }], {
        ...(promptVersionId ? { promptVersionId } : {}),
      })
    ).coaching.map((c) => `${c.id}@${c.version}`);

  /** The API process's index follows within a refresh (500 ms). */
  const eventually = async (read: () => Promise<string[]>, want: string[], what: string) => {
    const deadline = Date.now() + 10_000;
    let last: string[] = [];
    while (Date.now() < deadline) {
      last = await read();
      if (JSON.stringify(last) === JSON.stringify(want)) return;
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.deepEqual(last, want, what);
  };

  it('gates a candidate set with no better prompt, serves it to the candidate share only, and promotes it on completion', async () => {
    const production = (await labelledVersion(stack.db, 'demo', 'production'))!;
    const coaching = await candidateCoaching(
      'Basic economy flights cannot be changed; I can cancel it instead.',
    );
    const cycleId = `cycle-coaching-set-${Date.now()}`;
    const { rolloutId, report, candidateVersionId } = await cycleToPausedRollout(cycleId);

    assert.equal(report.coaching?.active, 0);
    assert.deepEqual(report.coaching?.set, [{ id: coaching.id, version: 1 }]);
    assert.deepEqual(report.coaching?.dropped, [], 'nothing is dropped from a set that broke nothing');
    assert.equal(report.coaching?.members?.[0]?.worse, 0);
    assert.notEqual(candidateVersionId, production.id, 'the set rides on a version of its own');
    const version = await stack.db
      .selectFrom('prompt_versions')
      .select(['text', 'commit_message'])
      .where('id', '=', candidateVersionId)
      .executeTakeFirstOrThrow();
    assert.equal(version.text, production.text, 'the prompt itself is unchanged');
    assert.match(version.commit_message ?? '', /unchanged, with a set of 1 candidate coaching/);
    const row = await stack.db
      .selectFrom('rollouts')
      .select(['coaching', 'weight'])
      .where('id', '=', rolloutId)
      .executeTakeFirstOrThrow();
    assert.deepEqual(row.coaching, [{ id: coaching.id, version: 1 }]);
    assert.equal(row.weight, 50);

    // Half the units resolve the candidate version; only their conversations recall the set.
    const units = await Promise.all(
      Array.from({ length: 40 }, (_, i) => client.resolvePrompt('demo', `unit-${i}`)),
    );
    const candidateUnit = units.find((u) => u.variant === 'candidate');
    const productionUnit = units.find((u) => u.variant === 'production');
    assert.ok(candidateUnit && productionUnit, 'both shares are served at 50 %');
    assert.equal(candidateUnit.promptVersionId, candidateVersionId);
    await eventually(
      () => recalled(candidateUnit.promptVersionId),
      [`${coaching.id}@1`],
      'the candidate share recalls the set',
    );
    assert.deepEqual(await recalled(productionUnit.promptVersionId), [], 'the production share does not');
    assert.deepEqual(await recalled(), [], 'nor does a conversation that names no version');
    assert.equal((await showCoaching(stack.db, 'demo', coaching.id)).status, 'candidate');

    await controlRollout(stack.env.client, rolloutId, 'promote', { full: true }, asPerson('olga'));
    const result = (await stack.env.client.workflow.getHandle(cycleId).result()) as { outcome: string };
    assert.equal(result.outcome, 'released');
    const promoted = await showCoaching(stack.db, 'demo', coaching.id);
    assert.equal(promoted.status, 'active', 'completion promotes the set');
    assert.equal(promoted.version, 2);
    assert.match(promoted.reason, new RegExp(`rollout ${rolloutId} completed`));
    assert.equal((await labelledVersion(stack.db, 'demo', 'production'))?.id, candidateVersionId);
    await eventually(() => recalled(), [`${coaching.id}@2`], 'production recalls it once promoted');
    const audit = await stack.db
      .selectFrom('audit_log')
      .select(['actor', 'action'])
      .where('artifact', '=', `coaching:demo/${coaching.id}`)
      .where('action', '=', 'coaching.promote')
      .execute();
    assert.equal(audit.length, 1, 'the promotion is audited');
  });

  it('retires the set when its rollout is aborted, and leaves the prompt where it was', async () => {
    const production = (await labelledVersion(stack.db, 'demo', 'production'))!;
    const coaching = await candidateCoaching('I can only cancel a basic economy flight, not move it.');
    const cycleId = `cycle-coaching-abort-${Date.now()}`;
    const { rolloutId, report } = await cycleToPausedRollout(cycleId);
    assert.deepEqual(
      report.coaching?.set,
      [{ id: coaching.id, version: 1 }],
      'the active coaching of the first test is in both arms, only the new candidate is the set',
    );
    assert.equal(report.coaching?.active, 1);

    await controlRollout(stack.env.client, rolloutId, 'abort', { reason: 'wrong tone' }, asPerson('olga'));
    const result = (await stack.env.client.workflow.getHandle(cycleId).result()) as { outcome: string };
    assert.equal(result.outcome, 'rolled_back');
    const retired = await showCoaching(stack.db, 'demo', coaching.id);
    assert.equal(retired.status, 'retired', 'a rollback retires the set');
    assert.match(retired.reason, /rolled back: aborted by user:olga: wrong tone/);
    assert.equal((await labelledVersion(stack.db, 'demo', 'production'))?.id, production.id);
    const rows = await stack.db
      .selectFrom('coaching_versions')
      .select('status')
      .where('coaching_id', '=', coaching.id)
      .orderBy('version')
      .execute();
    assert.deepEqual(
      rows.map((r) => r.status),
      ['candidate', 'retired'],
    );
  });

  /** A memory worded so broadly it fires on most requests: handing them to a person is wrong. */
  const broadCoaching = async () =>
    (
      await createCoaching(
        coachingDeps(),
        'demo',
        {
          situation: 'When a customer mentions a reservation',
          behaviour: { kind: 'transfer', reason: 'reservations go to a person' },
          // Low enough that most of the gate's conversations recall it.
          threshold: 0.01,
          candidate: true,
        },
        'user:rita',
      )
    ).coaching;

  const retiredByGate = async (id: string, reportId: string) => {
    const c = await showCoaching(stack.db, 'demo', id);
    assert.equal(c.status, 'retired', 'the gate retires the member it dropped');
    assert.match(
      c.reason,
      new RegExp(
        `gate ${reportId} left it out of the coaching set: on the eval examples that recalled it, \\d+ worse and \\d+ better with it`,
      ),
    );
    const audit = await stack.db
      .selectFrom('audit_log')
      .select(['actor', 'action'])
      .where('artifact', '=', `coaching:demo/${id}`)
      .where('action', '=', 'coaching.retire')
      .execute();
    assert.deepEqual(audit, [{ actor: 'flywheel', action: 'coaching.retire' }]);
  };

  it('drops a member that makes the conversations recalling it worse, retires it, and releases the rest of the set', async () => {
    const good = await candidateCoaching('Basic economy flights cannot be changed; I can cancel it instead.');
    const broad = await broadCoaching();
    const cycleId = `cycle-coaching-drop-${Date.now()}`;
    const { rolloutId, report } = await cycleToPausedRollout(cycleId);

    const byId = new Map((report.coaching?.members ?? []).map((m) => [m.id, m]));
    const bad = byId.get(broad.id);
    assert.ok(bad && bad.recalled > 0, `the broad memory was recalled: ${JSON.stringify(report.coaching)}`);
    assert.ok(bad.worse > bad.better, `it made more examples worse than better: ${bad.detail}`);
    assert.equal(bad.kept, false);
    assert.equal(byId.get(good.id)?.kept, true);
    assert.deepEqual(report.coaching?.dropped, [{ id: broad.id, version: 1 }]);
    assert.deepEqual(report.coaching?.set, [{ id: good.id, version: 1 }], 'the rest of the set is released');
    const row = await stack.db
      .selectFrom('rollouts')
      .select('coaching')
      .where('id', '=', rolloutId)
      .executeTakeFirstOrThrow();
    assert.deepEqual(row.coaching, [{ id: good.id, version: 1 }], 'the rollout carries only the kept member');
    // The report was scored without the dropped member: no eval example regressed.
    const regressions = report.assertions.filter((a) => a.name.startsWith('no_regression') && !a.passed);
    assert.deepEqual(regressions, [], 'scored without the dropped member, nothing regressed');
    assert.equal(bad.retire, true, `made ${bad.worse} worse: retired, not only left out`);
    await retiredByGate(broad.id, `${cycleId}:gate`);

    await controlRollout(stack.env.client, rolloutId, 'abort', { reason: 'clean up' }, asPerson('olga'));
    await stack.env.client.workflow.getHandle(cycleId).result();
  });

  it('fails a set whose every member was dropped, retires them, and releases nothing', async () => {
    const broad = await broadCoaching();
    const cycleId = `cycle-coaching-all-dropped-${Date.now()}`;
    await startSetCycle(cycleId);
    const result = (await stack.env.client.workflow.getHandle(cycleId).result()) as { outcome: string };
    assert.equal(result.outcome, 'gate_failed');
    const stored = await gateReportById(stack.db, `${cycleId}:gate`);
    assert.ok(stored);
    assert.equal(stored.candidate_version_id, null, 'no version is created for production itself');
    const report = GateReport.parse(stored.report);
    assert.equal(report.failingAssertion, 'coaching_set_kept');
    assert.deepEqual(report.coaching?.set, []);
    assert.deepEqual(report.coaching?.dropped, [{ id: broad.id, version: 1 }]);
    await retiredByGate(broad.id, `${cycleId}:gate`);
  });

  it("migrates a prompt's contextual instruction into candidate coaching and a version without it, and rolls both out together", async () => {
    const base = stack.scenario.basePrompt;
    const instruction =
      'When a customer asks to move a basic economy flight, remember that basic economy flights cannot be modified.';
    const { version: withInstruction } = await createPromptVersion(
      stack.db,
      'demo',
      `${base}\n${instruction}`,
      'manual',
      null,
    );
    const operator = await personWithToken(stack.db, 'otto', 'operator');
    const reviewer = await personWithToken(stack.db, 'remy', 'reviewer');
    const migrate = (headers: Record<string, string>, body: unknown) =>
      fetch(`${api.url}/api/agents/demo/coaching/migrate`, {
        method: 'POST',
        headers: { ...headers, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const candidates = async () =>
      (
        await stack.db
          .selectFrom('coaching')
          .innerJoin('coaching_versions', (j) =>
            j
              .onRef('coaching_versions.coaching_id', '=', 'coaching.id')
              .onRef('coaching_versions.version', '=', 'coaching.version'),
          )
          .select('coaching.id')
          .where('coaching.agent_id', '=', 'demo')
          .where('coaching_versions.status', '=', 'candidate')
          .execute()
      ).map((r) => r.id);
    const before = await candidates();

    assert.equal((await migrate(reviewer.headers, { version: withInstruction })).status, 403);
    const refused = await migrate(operator.headers, { version: withInstruction, actor: 'someone' });
    assert.equal(refused.status, 400, 'who migrates comes from the token');

    const dry = await migrate(operator.headers, { version: withInstruction, dryRun: true });
    assert.equal(dry.status, 200, await dry.clone().text());
    const plan = (await dry.json()) as {
      instructions: { instruction: string; situation: string; behaviour: { kind: string } }[];
      prompt: string;
      created: unknown;
    };
    assert.deepEqual(
      plan.instructions.map((i) => i.instruction),
      [instruction],
    );
    assert.match(plan.instructions[0]!.situation, /^When a customer asks about .*basic.*economy/);
    assert.equal(plan.instructions[0]!.behaviour.kind, 'reply');
    assert.equal(plan.prompt, base.trim());
    assert.equal(plan.created, null);
    assert.deepEqual(await candidates(), before, 'a dry run stores nothing');

    const applied = await migrate(operator.headers, {
      version: withInstruction,
      reason: 'move it to coaching',
    });
    assert.equal(applied.status, 200, await applied.clone().text());
    const result = (await applied.json()) as {
      created: { id: string; version: number };
      coaching: { id: string; status: string; situation: string; updatedBy: string }[];
    };
    assert.equal(result.coaching.length, 1);
    const [coaching] = result.coaching;
    assert.equal(coaching!.status, 'candidate');
    assert.equal(coaching!.updatedBy, 'user:otto');
    const version = await stack.db
      .selectFrom('prompt_versions')
      .select(['text', 'commit_message'])
      .where('id', '=', result.created.id)
      .executeTakeFirstOrThrow();
    assert.equal(version.text, base.trim(), 'the new version leaves the instruction out');
    assert.match(version.commit_message ?? '', /without 1 contextual instruction/);

    // The migrated coaching is followed where the instruction applied: the coaching alone makes
    // the agent reply on a basic-economy move, as the instruction in the prompt did.
    // Production traffic first: the demo's users resolve, recall coaching (the first test's
    // is active) and answer; replay then has the candidate answer the same requests.
    const production = (await labelledVersion(stack.db, 'demo', 'production'))!;
    const served = async () =>
      (
        await stack.db
          .selectFrom('traces')
          .select((eb) => eb.fn.countAll<string>().as('n'))
          .where('agent_id', '=', 'demo')
          .where('prompt_version', '=', production.version)
          .executeTakeFirstOrThrow()
      ).n;
    const traffic = startDemoTraffic(api.url, agentToken, stack.scenario, stack.llm.agent, 10, 100);
    try {
      const until = Date.now() + 60_000;
      while (Number(await served()) < 80 && Date.now() < until) await new Promise((r) => setTimeout(r, 250));
    } finally {
      await traffic.stop();
    }
    const tagged = await fetch(`${api.url}/api/traces?agent=demo&coaching=any&limit=5`, {
      headers: operator.headers,
    });
    assert.equal(tagged.status, 200);
    assert.ok(
      ((await tagged.json()) as { traces: unknown[] }).traces.length > 0,
      'traffic that recalled the active coaching carries its id',
    );

    const { workflowId, coaching: set } = await startManualRollout(stack.env.client, stack.db, {
      taskQueue: stack.taskQueue,
      agent: 'demo',
      candidateVersion: result.created.version,
      actor: 'user:otto',
      coaching: 'candidates',
      // Replay's verdict is not the point (the simulated agent's noise differs by seed); that
      // it answers with the coaching as served, on the traffic just recorded, is.
      config: {
        steps: [
          { replay: { traces: 60, minTraces: 5, maxPassRateDrop: 1 } },
          { setWeight: 50 },
          { pause: {} },
        ],
      },
    });
    assert.deepEqual(set, [{ id: coaching!.id, version: 1 }]);
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      const state = await rolloutState(stack.env.client, workflowId).catch(() => undefined);
      if (state?.phase === 'paused') break;
      await new Promise((r) => setTimeout(r, 250));
    }
    const row = await stack.db
      .selectFrom('rollouts')
      .select(['coaching', 'candidate_version_id'])
      .where('id', '=', workflowId)
      .executeTakeFirstOrThrow();
    assert.deepEqual(row.coaching, set);
    // Replay answers past production traffic as the candidate's users would get it: the
    // version without the instruction, with the active coaching and the set recalled.
    const replay = await stack.db
      .selectFrom('rollout_steps')
      .select(['kind', 'verdict', 'metrics'])
      .where('rollout_id', '=', workflowId)
      .where('kind', '=', 'replay')
      .executeTakeFirstOrThrow();
    const measured = replay.metrics as { traces: number };
    assert.equal(replay.verdict, 'successful', JSON.stringify(replay));
    assert.ok(measured.traces >= 5, JSON.stringify(replay));
    assert.equal(row.candidate_version_id, result.created.id);
    // The first test's coaching is active: both shares recall it, only the candidate's the set.
    const active = await recalled();
    assert.ok(!active.includes(`${coaching!.id}@1`), 'the production share does not recall it');
    const sorted = (xs: string[]) => [...xs].sort();
    await eventually(
      async () => sorted(await recalled(result.created.id)),
      sorted([...active, `${coaching!.id}@1`]),
      'the candidate share recalls the migrated coaching too',
    );

    await controlRollout(stack.env.client, workflowId, 'promote', { full: true }, asPerson('olga'));
    await stack.env.client.workflow.getHandle(workflowId).result();
    assert.equal((await showCoaching(stack.db, 'demo', coaching!.id)).status, 'active');
    assert.equal((await labelledVersion(stack.db, 'demo', 'production'))?.id, result.created.id);
  });
});
