import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client } from '@temporalio/client';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createGateActivities, type GateInput, type GateOutcome } from '../../activities/regression-gate.js';
import { apiDeps, startApiServer, type ApiServer } from '../../api/http-server.js';
import { FlywheelClient, promptForAgent } from '../../client/flywheel-client.js';
import type { Db } from '../../db/connection.js';
import type { LlmClient } from '../../llm/llm-client.js';
import { insertCycle } from '../../cycles/store/cycle-repository.js';
import { PgSearchStore } from '../../optimization/store/pg-search-store.js';
import { textIdOf } from '../../activities/search-executor.js';
import { planCandidateRelease, releaseCandidate } from '../../registry/candidate-release-service.js';
import { moveLabel } from '../../registry/label-move-service.js';
import { componentsOfVersion } from '../../registry/shipped-prompt.js';
import { createPromptVersion, labelledVersion } from '../../registry/store/prompt-repository.js';
import { servesCandidate } from '../../release/sticky-bucket.js';
import { PromptConfig } from '../../schemas/prompt.js';
import { AgentAction } from '../../schemas/trace.js';
import { InProcessSimulatorClient } from '../simulator/in-process-client.js';
import { AIRLINE_SCENARIO, loadScenario } from '../simulator/scenario.js';
import { generateTraffic, resolveWith } from '../simulator/traffic.js';
import { loadTaxonomy } from '../../workers/load-taxonomy.js';
import { startTestDatabase } from '../helpers/test-stack.js';
import { personWithToken } from '../helpers/api-credentials.js';
import { createAgentToken } from '../../registry/store/agent-tokens.js';

const REFRESH_MS = 200;
const scenario = loadScenario(AIRLINE_SCENARIO);
const agent = scenario.agentId;
const tools = scenario.actions;
const rule = scenario.rules.find((r) => r.id === 'cancellation_eligibility')!;
const cancel = tools.find((t) => t.name === 'cancel_reservation')!;
/** What GEPA's reflection would write: the rule's fixing sentence, in the tool's description. */
const fixedDescription = `${cancel.description} ${rule.fixingPhrases[0]}.`;

describe('a release ships exactly what was gated, and resolve serves all of it', () => {
  let database: { db: Db; teardown(): Promise<void> };
  let db: Db;
  let api: ApiServer;
  let production: { id: string; version: number; text: string };
  let store: PgSearchStore;
  /** Candidate IDs as the optimizer registers them (`<runId>/<candidateId>`). */
  const registered: Record<string, string> = {};

  const register = async (name: string, components: Record<string, string>) => {
    await store.putTexts(
      Object.values(components).map((text) => ({ id: textIdOf(text), text, kind: 'component' as const })),
    );
    const ids = Object.fromEntries(Object.entries(components).map(([c, text]) => [c, textIdOf(text)]));
    registered[name] = await store.registerCandidate(name, ids);
  };

  before(async () => {
    database = await startTestDatabase();
    db = database.db;
    await db
      .insertInto('agents')
      .values({ id: agent, config: JSON.stringify({ tools }) })
      .execute();
    const v1 = await createPromptVersion(db, agent, scenario.basePrompt, 'seed', null);
    await moveLabel(db, agent, 'production', v1.id, 'test', 'seed', { announce: false });
    production = v1;
    await insertCycle(db, {
      cycleId: 'cycle-1',
      agent,
      runId: 'run',
      windowStart: '2026-01-01T00:00:00Z',
      windowEnd: '2026-01-08T00:00:00Z',
      input: {},
    });
    await db
      .insertInto('optimization_runs')
      .values({ id: 'opt-1', cycle_id: 'cycle-1', optimizer: 'gepa', config: '{}', status: 'completed' })
      .execute();
    store = new PgSearchStore(db, 'opt-1', 'cycle-1', tools);
    // The optimizer's baseline is production as served; GEPA's winner changed one tool description.
    const baseline = Object.fromEntries(
      componentsOfVersion({ text: v1.text, config: {} }, tools).map((c) => [c.component, c.text]),
    );
    await register('baseline', baseline);
    await register('tools-only', { ...baseline, 'tool:cancel_reservation': fixedDescription });
    await register('cosmetic', { ...baseline, system: `${v1.text}\n\n` });
    api = await startApiServer(apiDeps(db, new Client(), { routingRefreshMs: REFRESH_MS }), 0);
  });
  after(async () => {
    await api?.close();
    await database?.teardown();
  });

  it('refuses at the gate a candidate that ships what production serves, before evaluating it', async () => {
    const unused = (): never => {
      throw new Error('a refused candidate costs no model call');
    };
    const model: LlmClient = { model: 'none', chat: unused, embed: unused };
    const gate = createGateActivities({
      db,
      llm: { agent: model, judge: model, teacher: model, embedder: null },
      llmConcurrency: 1,
      taxonomy: loadTaxonomy(),
    });
    const runGate = (args: GateInput) =>
      new MockActivityEnvironment().run<[GateInput], GateOutcome, (a: GateInput) => Promise<GateOutcome>>(
        (a) => gate.runGate(a),
        args,
      );
    const input = {
      cycleId: 'cycle-1',
      agent,
      candidateId: registered.cosmetic!,
      baselineCandidateId: registered.baseline!,
      baselineVersionId: production.id,
      datasetVersionId: 'no-dataset-needed',
      seed: 1,
    };
    const outcome = await runGate(input);
    assert.equal(outcome.verdict, 'fail');
    assert.equal(outcome.sameAsProduction, true);
    assert.equal(outcome.candidateVersionId, null);
    assert.equal(outcome.failingAssertion, 'differs_from_production');
    assert.match(outcome.assertions[0]!.detail, /ships exactly what production .*@v1 serves/);
    const versions = await db.selectFrom('prompt_versions').select('id').where('name', '=', agent).execute();
    assert.deepEqual(versions, [{ id: production.id }], 'no version was created');
    assert.equal(await labelledVersion(db, agent, 'candidate'), undefined);
    // A retried gate reads its stored report and says the same.
    const again = await runGate(input);
    assert.deepEqual(again, outcome);
  });

  it('releases a tool-description-only candidate as one version whose config carries the descriptions', async () => {
    const plan = await planCandidateRelease(db, {
      agent,
      candidateId: registered['tools-only']!,
      productionVersionId: production.id,
    });
    assert.deepEqual(plan.changed, ['tool:cancel_reservation']);
    const v2 = await releaseCandidate(db, plan, 'passed gate cycle-1:gate');
    assert.equal(v2.version, 2);
    assert.equal(v2.text, production.text, 'the system prompt did not change');
    assert.deepEqual(v2.config, { toolDescriptions: { cancel_reservation: fixedDescription } });
    assert.match(v2.commit_message ?? '', /tool descriptions \(cancel_reservation\) changed from v1/);
    assert.equal((await labelledVersion(db, agent, 'candidate'))?.id, v2.id);
    // Idempotent per candidate: a retried gate finds the version it created.
    assert.equal((await releaseCandidate(db, plan, 'retry')).id, v2.id);

    const { headers } = await personWithToken(db, 'reader', 'viewer');
    const shown = (await (await fetch(`${api.url}/api/prompts/${agent}?version=2`, { headers })).json()) as {
      config: unknown;
    };
    assert.deepEqual(shown.config, { toolDescriptions: { cancel_reservation: fixedDescription } });
    const diff = (await (
      await fetch(`${api.url}/api/prompts/${agent}/diff?from=1&to=2`, { headers })
    ).json()) as {
      diff: string;
      added: number;
      removed: number;
    };
    assert.ok(diff.diff.includes(`+${fixedDescription}`), diff.diff);
    assert.ok(diff.diff.includes(`-${cancel.description}`), diff.diff);
    assert.deepEqual([diff.added, diff.removed], [1, 1]);
  });

  it('serves the changed descriptions through resolve to the candidate arm only, and the agent uses them', async () => {
    const candidate = (await labelledVersion(db, agent, 'candidate'))!;
    await db
      .insertInto('rollouts')
      .values({
        id: 'ro-tools',
        cycle_id: 'cycle-1',
        agent_id: agent,
        release_decision_id: null,
        baseline_version_id: production.id,
        candidate_version_id: candidate.id,
        weight: 50,
        status: 'running',
        reason: null,
        ended_at: null,
        workflow_id: null,
      })
      .execute();
    // This process has not resolved the name yet: its first request reads the rollout.
    const { token } = await createAgentToken(db, { agent, scopes: ['resolve'], createdBy: 'test' });
    const client = new FlywheelClient({ baseUrl: api.url, token });

    const units = Array.from({ length: 200 }, (_, i) => `user-${i}`);
    const arms = { candidate: 0, production: 0 };
    for (const unit of units) {
      const served = await client.resolvePrompt(agent, unit);
      const inCandidateArm = servesCandidate(unit, 'ro-tools', 50);
      const { systemPrompt, tools: applied } = promptForAgent(served, tools);
      const description = applied.find((t) => t.name === 'cancel_reservation')!.description;
      assert.equal(systemPrompt, production.text);
      if (inCandidateArm) {
        arms.candidate++;
        assert.deepEqual([served.variant, served.version], ['candidate', 2]);
        assert.deepEqual(PromptConfig.parse(served.config).toolDescriptions, {
          cancel_reservation: fixedDescription,
        });
        assert.equal(description, fixedDescription);
      } else {
        arms.production++;
        assert.deepEqual([served.variant, served.version], ['production', 1]);
        assert.deepEqual(served.config, {});
        assert.equal(description, cancel.description);
      }
      // Every other tool keeps the agent's own description in both arms.
      for (const t of applied.filter((x) => x.name !== 'cancel_reservation'))
        assert.equal(t.description, tools.find((x) => x.name === t.name)!.description);
      assert.deepEqual(client.traceAttributes(served), {
        'flywheel.prompt.name': agent,
        'flywheel.prompt.version': inCandidateArm ? 2 : 1,
      });
    }
    assert.ok(arms.candidate > 50 && arms.production > 50, JSON.stringify(arms));

    // The simulated production traffic resolves through the client: the candidate's users get
    // the fixed description, so the canary measures the candidate, not production twice.
    const records = await generateTraffic({
      scenario,
      agent: new InProcessSimulatorClient(scenario, 'sim-agent'),
      resolve: resolveWith(client, agent),
      count: 600,
      start: new Date('2026-01-08T00:00:00Z'),
      spacingMs: 1000,
      seed: 5,
      idPrefix: 'canary',
    });
    const onRule = { production: { right: 0, all: 0 }, candidate: { right: 0, all: 0 } };
    for (const r of records) {
      assert.equal(r.promptVersion, servesCandidate(r.userId!, 'ro-tools', 50) ? 2 : 1, 'traced as served');
      const example = scenario.examples.find((e) => e.id === r.attributes?.example)!;
      if (example.rule !== rule.id) continue;
      const arm = r.promptVersion === 2 ? onRule.candidate : onRule.production;
      arm.all++;
      if (AgentAction.parse(r.output).action === example.expected.action) arm.right++;
    }
    assert.ok(onRule.production.all >= 5 && onRule.candidate.all >= 5, JSON.stringify(onRule));
    assert.ok(
      onRule.candidate.right / onRule.candidate.all >= 0.8,
      `candidate arm: ${JSON.stringify(onRule.candidate)}`,
    );
    assert.ok(
      onRule.production.right / onRule.production.all <= 0.2,
      `production arm: ${JSON.stringify(onRule.production)}`,
    );
  });
});
