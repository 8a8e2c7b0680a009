import { writeFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { Runtime, DefaultLogger } from '@temporalio/worker';
import { startCycle, listCycles } from '../cycles/cycle-service.js';
import { createDecisionSigner } from '../release/decision-signing-service.js';
import { apiDeps, startApiServer } from '../api/http-server.js';
import { startOtlpGrpcServer } from '../api/otlp-grpc-server.js';
import { connectDatabase, assertDatabaseReachable } from '../db/connection.js';
import { startEmbeddedDatabase } from '../db/embedded-database.js';
import { migrateToLatest } from '../db/migrate.js';
import { createLlmRoles } from '../llm/llm-roles.js';
import type { AppConfig, ModelRoles, RuntimeState } from '../schemas/config.js';
import { AIRLINE_SCENARIO, loadScenario } from '../test/simulator/scenario.js';
import { SIMULATED_MODELS, startSimulator } from '../test/simulator/simulator-server.js';
import { parseFaultSpec } from '../test/simulator/fault-plan.js';
import { connectClient, connectNative } from '../workers/temporal-connection.js';
import { createFlywheelWorker } from '../workers/flywheel-worker.js';
import { flywheelDataConverter } from '../workers/data-converter.js';
import { ensureCodecKeyFile } from './codec-key-file.js';
import { ensureDecisionKeyFile } from './decision-key-file.js';
import { decisionPublicKey } from '../release/decision-signature.js';
import { seedDemoAgent } from './demo-seed.js';
import { startDemoTraffic } from './demo-traffic.js';
import { createAgentToken } from '../registry/agent-token-service.js';
import { ensureFirstAdmin } from '../registry/user-service.js';
import { firstAdminNotice } from './user-commands.js';
import { TracePartitions } from '../traces/trace-storage-service.js';
import { ensureRetentionSchedule } from '../traces/retention-schedule-service.js';
import { ensureOnlineEvaluationSchedule } from '../evaluation/online-evaluation-schedule-service.js';
import { runtimeStatePath } from './load-config.js';
import { ensureTemporalCli } from './temporal-cli.js';
import { ensureConsoleBuilt } from './console-build.js';
import { startTemporalDevServer } from './temporal-dev-server.js';
import { loadTaxonomy } from '../workers/load-taxonomy.js';
import { UserError } from '../schemas/user-error.js';

const say = (line: string) => console.log(`flywheel │ ${line}`);

/** Demo cycle durations: short enough to watch, long enough to act on. */
export const DEMO_CYCLE_INPUT = {
  agent: 'demo',
  annotationDeadlineSeconds: 15 * 60,
  approvalDeadlineSeconds: 60 * 60,
  maxAnnotationItems: 10,
  rollout: {
    steps: [
      { replay: { traces: 30, minTraces: 5, maxPassRateDrop: 0.05 } },
      { setWeight: 10 },
      { analysis: {} },
      { setWeight: 50 },
      { analysis: {} },
      { setWeight: 100 },
    ],
    // Demo traffic is ~10 traces a second, so 10 % of it reaches the sample a 20-point
    // effect needs at 80 % power within a couple of minutes; a real agent keeps the
    // defaults (10 points, 5-minute measurements).
    analysis: {
      intervalSeconds: 15,
      count: 1,
      minSamples: 5,
      inconclusiveLimit: 20,
      minimumDetectableEffect: 0.2,
    },
  },
};

/**
 * `flywheel dev` (= `npm start`): the whole stack on one machine. Starts or reuses the
 * Temporal dev server and embedded Postgres, runs the simulator when no model is
 * configured, one worker and the API; seeds the demo agent and starts its first cycle.
 */
export async function runDev(config: AppConfig): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const stops: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
  };
  try {
    // The configured payload keys, else the one generated into the home on the first start.
    let encryption = config.temporal.payloadEncryption;
    if (encryption.encrypt && encryption.keys.length === 0) {
      const { keys, created } = ensureCodecKeyFile(encryption.keyFile, new Date());
      encryption = { ...encryption, keys, source: encryption.keyFile };
      if (created)
        say(
          `generated a payload encryption key into ${encryption.keyFile} (keep it: it decrypts this stack's workflow histories)`,
        );
    }
    if (!encryption.encrypt)
      say(
        'WARNING payload encryption is off (FLYWHEEL_CODEC=off): Temporal stores workflow payloads in plain text',
      );
    // The configured decision signing key, else the one generated into the home on the first start.
    let decisions = config.decisions;
    if (!decisions.signing) {
      const { key, created } = ensureDecisionKeyFile(decisions.keyFile, new Date());
      decisions = {
        ...decisions,
        signing: key,
        source: decisions.keyFile,
        verify: { ...decisions.verify, [key.kid]: decisionPublicKey(key.privateKey) },
      };
      if (created)
        say(
          `generated a decision signing key into ${decisions.keyFile} (approvals and rollout actions are signed with it)`,
        );
    }
    const local = config.temporal.address === 'localhost:7233' && !config.temporal.apiKey;
    let temporalAddress = config.temporal.address;
    let uiUrl = config.web.temporalUiUrl ?? `http://localhost:${config.uiPort}`;
    if (local) {
      const cli = await ensureTemporalCli(say);
      const server = await startTemporalDevServer({
        cli,
        home: config.home,
        port: 7233,
        uiPort: config.uiPort,
        // The Web UI asks the API to decrypt what it shows (with a random API port, it cannot).
        ...(config.apiPort > 0 ? { uiCodecEndpoint: `http://localhost:${config.apiPort}/api/codec` } : {}),
        log: say,
      });
      stops.push(() => server.stop());
      temporalAddress = server.address;
      uiUrl = server.uiUrl;
    }
    let databaseUrl = config.databaseUrl;
    if (!databaseUrl) {
      const embedded = await startEmbeddedDatabase({
        dataDir: path.join(config.home, 'pg'),
        port: config.postgresPort,
        persistent: true,
        onRestart: say,
      });
      if (!embedded.startedHere)
        say(`PostgreSQL already running on port ${config.postgresPort}: reusing it.`);
      stops.push(() => embedded.stop());
      databaseUrl = embedded.url;
    }
    const db = connectDatabase(databaseUrl);
    stops.push(() => db.destroy());
    await assertDatabaseReachable(db, databaseUrl);
    const applied = await migrateToLatest(db);
    if (applied.length) say(`migrations applied: ${applied.join(', ')}`);
    // The first start creates an admin; its password is printed once, with the banner below.
    const firstAdmin = await ensureFirstAdmin(db);

    let models: ModelRoles | null = config.models;
    const scenario = loadScenario(AIRLINE_SCENARIO);
    if (!models) {
      // FLYWHEEL_SIMULATOR_FAULTS (e.g. "judge:429:0.2,teacher:500:0.1:burst=3") rehearses a
      // flaky model server; see test/simulator/fault-plan.ts.
      const faultSpec = process.env.FLYWHEEL_SIMULATOR_FAULTS;
      const faults = faultSpec ? parseFaultSpec(faultSpec) : [];
      const sim = await startSimulator(scenario, config.simulatorPort, '127.0.0.1', { faults });
      if (faults.length > 0) say(`simulator injects faults: ${faultSpec}`);
      stops.push(() => sim.close());
      const ep = (model: string) => ({ baseUrl: sim.url, model, apiKey: 'simulator' });
      models = {
        agent: ep(SIMULATED_MODELS.agent),
        judge: ep(SIMULATED_MODELS.judge),
        teacher: ep(SIMULATED_MODELS.teacher),
        embedder: ep(SIMULATED_MODELS.embedder),
      };
      say(`no model configured: simulator (scenario "${scenario.name}") at ${sim.url}`);
    }
    const llm = createLlmRoles(models, db);
    const temporal = { ...config.temporal, address: temporalAddress, payloadEncryption: encryption };
    // Everything opened from here on is closed on any exit, a failed start included: an open
    // Temporal connection or worker keeps the process alive after the error is printed.
    const client = await connectClient(temporal);
    stops.push(() => client.connection.close());
    const connection = await connectNative(temporal);
    stops.push(() => connection.close());
    const worker = await createFlywheelWorker({
      connection,
      namespace: temporal.namespace,
      taskQueue: temporal.taskQueue,
      deps: { db, llm, llmConcurrency: config.llmConcurrency, taxonomy: loadTaxonomy(config.taxonomyFile) },
      dataConverter: flywheelDataConverter(encryption),
      decisionKeys: decisions.verify,
    });
    // Running before the seed is harmless (no cycle exists yet) and gives a failed start a
    // running worker to shut down, which is what releases it.
    const workerRun = worker.run();
    stops.push(async () => {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await workerRun.catch(() => undefined);
    });
    // A namespace that refuses schedules (permissions) still gets a working stack.
    await ensureRetentionSchedule(client, temporal.taskQueue).then(
      ({ created }) =>
        created && say('created the daily trace retention schedule (flywheel-trace-retention)'),
      (error: unknown) =>
        say(
          `could not create the trace retention schedule (${error instanceof Error ? error.message : String(error)}); run flywheel traces retention by hand`,
        ),
    );
    await ensureOnlineEvaluationSchedule(client, temporal.taskQueue).then(
      ({ created }) =>
        created &&
        say('created the online evaluation schedule (flywheel-online-evaluation, every 5 minutes)'),
      (error: unknown) =>
        say(
          `could not create the online evaluation schedule (${error instanceof Error ? error.message : String(error)}); online evaluation and drift alerts will not run`,
        ),
    );
    // One set of API dependencies (trace writer, token cache, routing snapshots) for both receivers.
    const deps = apiDeps(db, client, {
      llm,
      ...(decisions.signing ? { decisionSigner: createDecisionSigner(decisions.signing) } : {}),
      taskQueue: temporal.taskQueue,
      cookieSecure: config.web.cookieSecure,
      codecOrigins: config.web.codecOrigins,
      // The UI of the dev server this launcher runs or found, as printed below.
      temporalUiUrl: uiUrl,
    });
    // npm install built the console; a source change since (or a missing dist) rebuilds it here.
    await ensureConsoleBuilt().then(
      ({ built, ms }) => built && say(`built the web console in ${ms} ms`),
      (error: unknown) =>
        say(
          `could not build the web console (${error instanceof Error ? error.message : String(error)}); the API and CLI work without it`,
        ),
    );
    const api = await startApiServer(deps, config.apiPort);
    stops.push(() => api.close());
    let otlpGrpc: string | undefined;
    if (config.otlpGrpcPort > 0) {
      // A second local stack, or a collector, may hold 4317: the HTTP receiver still works.
      await startOtlpGrpcServer(deps, config.otlpGrpcPort).then(
        (grpcServer) => {
          otlpGrpc = grpcServer.address;
          stops.push(() => grpcServer.close());
        },
        (error: unknown) =>
          say(
            `OTLP/gRPC receiver not started on port ${config.otlpGrpcPort} (${error instanceof Error ? error.message : String(error)}); set FLYWHEEL_OTLP_GRPC_PORT to another port, or send OTLP over HTTP`,
          ),
      );
    }

    const state: RuntimeState = {
      databaseUrl,
      temporalAddress,
      namespace: temporal.namespace,
      apiUrl: api.url,
      uiUrl,
      models,
      pid: process.pid,
    };
    writeFileSync(runtimeStatePath(config), JSON.stringify(state, null, 2));
    const forget = () => rmSync(runtimeStatePath(config), { force: true });
    process.once('exit', forget);
    stops.push(() => Promise.resolve(forget()));

    const seeded = await seedDemoAgent(db, llm.agent, scenario, {
      now: new Date(),
      traces: 300,
      days: 7,
      seed: 1,
    });
    // The demo's simulated users post traces with an agent-scoped token, as a real agent would.
    const demoToken = await createAgentToken(db, {
      agent: scenario.agentId,
      scopes: ['ingest', 'feedback', 'resolve'],
      createdBy: 'flywheel-dev',
    });
    await new TracePartitions(db).ensureAhead(new Date());
    let cycleId: string | undefined;
    if (seeded.seeded) {
      say(`seeded agent "demo": prompt v1 (production) and ${seeded.traces} traces from the last 7 days`);
      try {
        cycleId = (await startCycle(client, { taskQueue: temporal.taskQueue, input: DEMO_CYCLE_INPUT }))
          .workflowId;
      } catch (error) {
        if (!(error instanceof UserError)) throw error;
        say(error.message);
      }
    } else {
      const open = (await listCycles(client, 'demo', 5)).find((c) => c.status === 'RUNNING');
      cycleId = open?.cycleId;
      say(
        open
          ? `resuming: cycle ${open.cycleId} is at stage ${open.stage}`
          : 'database already seeded; no cycle running',
      );
    }
    const cli = 'npm run flywheel --';
    console.log(`
  Temporal Web UI   ${uiUrl}/namespaces/${temporal.namespace}/workflows?query=${encodeURIComponent("FlywheelAgent = 'demo'")}
  Web console       ${api.url}/console/   (sign in as a user: see below, or flywheel user create)
  API               ${api.url}/health
  Ingest token      ${demoToken.token}   (OTLP: POST ${api.url}/v1/traces and /v1/logs${otlpGrpc ? `, or gRPC ${otlpGrpc}` : ''})
${cycleId ? `  Cycle             ${cycleId}\n` : ''}
  Next, in another terminal:
    ${cli} login --user admin                 # once: the CLI then acts as you (flywheel whoami)
    ${cli} cycle status ${cycleId ?? '<cycle-id>'}          # where the cycle is
    ${cli} queue show ${cycleId ?? '<cycle-id>'} --template labels.json   # the queue, as a file to edit
    ${cli} annotate --file labels.json                # submit the labels (the judge's verdicts, unless you changed them)
    ${cli} approve ${cycleId ?? '<cycle-id>'} --comment 'looks right'   # signed for you by the API
    ${cli} rollout status ${cycleId ?? '<cycle-id>'}       # the staged rollout; promote|pause|resume|abort
    ${cli} schedule create --agent demo --cron '0 9 * * MON'
  Ctrl-C stops everything; npm start again resumes where it was.
${firstAdmin ? `\n${firstAdminNotice(firstAdmin, api.url, cli).replace(/^/gm, '  ')}\n` : ''}`);
    // Simulated users keep talking to the agent so rollout analysis has live traffic.
    const traffic = startDemoTraffic(api.url, demoToken.token, scenario, llm.agent, 10, 1000, (e) =>
      say(`demo traffic: ${String(e)}`),
    );
    stops.push(() => traffic.stop());

    const shutdown = new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    await Promise.race([shutdown, workerRun]);
    say('stopping…');
  } finally {
    await stopAll();
  }
}
