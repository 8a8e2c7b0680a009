#!/usr/bin/env -S npx tsx
import { Command } from 'commander';
import { ApprovalResult } from '../schemas/approval.js';
import { callApi } from './cli-api.js';
import { refuseIdentityValues, refusingIdentityOptions } from './cli-identity.js';
import { createDecisionSigner } from '../release/decision-signing-service.js';
import { cycleStatus, listCycles, startCycle } from '../cycles/cycle-service.js';
import {
  deleteSchedule,
  describeSchedule,
  listSchedules,
  pauseSchedule,
  triggerSchedule,
  unpauseSchedule,
  upsertSchedule,
} from '../cycles/schedule-service.js';
import { renderCycleDetails } from '../workflows/cycle-details.js';
import { renderGateReportMarkdown } from '../release/gate-report-markdown.js';
import { storedCycleRecords } from '../cycles/cycle-report-service.js';
import { renderAgentKpis } from '../cycles/cycle-kpis.js';
import { DEFAULT_KPI_CYCLES, kpisOfAgent } from '../cycles/kpi-service.js';
import { onlineEvaluationStatus } from '../evaluation/online-evaluation-service.js';
import { renderOnlineStatus } from '../evaluation/online/online-status-render.js';
import { CliContext } from './cli-context.js';
import { readJsonFile } from './cli-files.js';
import { loadConfig } from './load-config.js';
import { registerAgentCommands } from './agent-commands.js';
import { registerArtifactCommands } from './artifact-commands.js';
import { registerCoachingCommands } from './coaching-commands.js';
import { registerCoachingEffectCommands } from './coaching-effect-commands.js';
import { registerCoachingMigrateCommand } from './coaching-migrate-command.js';
import { registerDatasetCommands } from './dataset-commands.js';
import { registerPromptCommands } from './prompt-commands.js';
import { registerQueueCommands } from './queue-commands.js';
import { registerRolloutCommands } from './rollout-commands.js';
import { registerTraceCommands } from './trace-commands.js';
import { registerTraceViewerCommands } from './trace-viewer-commands.js';
import { registerDecisionKeyCommands } from './decision-key-commands.js';
import { registerEvalCommand } from './eval-command.js';
import { registerTokenCommands } from './token-commands.js';
import { firstAdminNotice, registerUserCommands } from './user-commands.js';
import { ensureFirstAdmin } from '../registry/user-service.js';

const program = new Command('flywheel').description(
  'Weekly, validated, safely rolled-out prompt improvements for LLM agents.',
);
const print = (value: unknown) =>
  console.log(typeof value === 'string' ? value : JSON.stringify(value, null, 2));

/** Runs a command with connections, printing user errors as one line and exiting non-zero. */
function action<A extends unknown[]>(fn: (ctx: CliContext, ...args: A) => Promise<void>) {
  return async (...args: A) => {
    let ctx: CliContext | undefined;
    try {
      ctx = new CliContext();
      await fn(ctx, ...args);
    } catch (error) {
      console.error(`flywheel: ${error instanceof Error ? error.message : String(error)}`);
      if (process.env.FLYWHEEL_DEBUG && error instanceof Error) console.error(error.stack);
      process.exitCode = 1;
    } finally {
      await ctx?.close().catch(() => undefined);
    }
  };
}

/** A process that owns its connections (dev, worker): config errors print as one line. */
function longRunning(name: string, run: (config: ReturnType<typeof loadConfig>) => Promise<void>) {
  return async () => {
    try {
      await run(loadConfig());
    } catch (error) {
      console.error(`flywheel ${name}: ${error instanceof Error ? error.message : String(error)}`);
      process.exitCode = 1;
    }
  };
}

program
  .command('dev')
  .description(
    'run the whole stack locally (Temporal dev server, Postgres, simulator, worker, API) and start a demo cycle',
  )
  .action(longRunning('dev', async (config) => (await import('./dev.js')).runDev(config)));

program
  .command('worker')
  .description(
    'run a standalone worker (for N replicas): needs DATABASE_URL, Temporal settings and model endpoints',
  )
  .action(
    longRunning('worker', async (config) => (await import('../workers/worker-main.js')).runWorker(config)),
  );

program
  .command('api')
  .description('run the HTTP API alone (stateless; run N replicas): needs DATABASE_URL and Temporal settings')
  .option('--port <port>', 'port to listen on', (v) => Number(v))
  .option(
    '--host <host>',
    'address to bind; 0.0.0.0 serves other machines (put TLS in front: tokens and session cookies travel in every request)',
    '127.0.0.1',
  )
  .option(
    '--grpc-port <port>',
    'also receive OTLP over gRPC on this port (exporters default to 4317); off unless given or FLYWHEEL_OTLP_GRPC_PORT is set',
    (v) => Number(v),
  )
  .option(
    '--workers <n>',
    'API processes sharing the port (trace ingest is CPU-bound: one per core); default FLYWHEEL_API_WORKERS or 1',
    (v) => Number(v),
  )
  .action(
    action(async (ctx, opts: { port?: number; host: string; workers?: number; grpcPort?: number }) => {
      const { startApiServer, apiDeps } = await import('../api/http-server.js');
      const { startOtlpGrpcServer } = await import('../api/otlp-grpc-server.js');
      const { runApiWorkers } = await import('../api/api-workers.js');
      const grpcPort = opts.grpcPort ?? (process.env.FLYWHEEL_OTLP_GRPC_PORT ? ctx.config.otlpGrpcPort : 0);
      // The first start of a deployment creates an admin (once: other processes find it).
      const firstAdmin = await ensureFirstAdmin(await ctx.database());
      if (firstAdmin)
        console.log(
          firstAdminNotice(
            firstAdmin,
            `http://${opts.host === '0.0.0.0' ? 'localhost' : opts.host}:${opts.port ?? ctx.config.apiPort}`,
          ),
        );
      const server = await runApiWorkers({
        workers: opts.workers ?? ctx.config.apiWorkers,
        start: async () => {
          const db = await ctx.database();
          const { createLlmRoles } = await import('../llm/llm-roles.js');
          const deps = apiDeps(db, await ctx.temporal(), {
            // Coaching embeds situations and conversations, and tests a coaching, with these.
            ...(ctx.config.models ? { llm: createLlmRoles(ctx.config.models, db) } : {}),
            ...(ctx.config.decisions.signing
              ? { decisionSigner: createDecisionSigner(ctx.config.decisions.signing) }
              : {}),
            taskQueue: ctx.config.temporal.taskQueue,
            cookieSecure: ctx.config.web.cookieSecure,
            codecOrigins: ctx.config.web.codecOrigins,
            ...(ctx.config.web.temporalUiUrl ? { temporalUiUrl: ctx.config.web.temporalUiUrl } : {}),
          });
          const http = await startApiServer(deps, opts.port ?? ctx.config.apiPort, opts.host);
          if (grpcPort === 0) return http;
          // Each API process listens; the cluster primary shares the port, as for HTTP.
          const grpcServer = await startOtlpGrpcServer(deps, grpcPort, opts.host);
          return {
            url: http.url,
            close: () => Promise.all([http.close(), grpcServer.close()]).then(() => undefined),
          };
        },
      });
      // A forked worker serves until the primary stops it (it exits by itself then).
      if (server.role === 'worker') return new Promise<void>(() => undefined);
      console.log(`flywheel api listening on ${server.url}`);
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      await server.close();
    }),
  );

registerTraceCommands(program, action);
registerTokenCommands(program, action);
registerUserCommands(program, action);
registerTraceViewerCommands(program, action);
registerQueueCommands(program, action);
registerRolloutCommands(program, action);
registerPromptCommands(program, action);
registerDatasetCommands(program, action);
registerArtifactCommands(program, action);
registerCoachingCommands(program, action);
registerCoachingEffectCommands(program, action);
registerCoachingMigrateCommand(program, action);
registerAgentCommands(program, action);
registerDecisionKeyCommands(program);
registerEvalCommand(program);

const cycle = program.command('cycle').description('start and inspect improvement cycles');
cycle
  .command('start')
  .option('--agent <agent>', 'agent id', 'demo')
  .option('--id <workflowId>', 'cycle ID (default cycle-<agent>-<date>)')
  .option('--input <file>', 'JSON file with cycle input overrides (durations, budgets, rollout steps)')
  .action(
    action(async (ctx, opts: { agent: string; id?: string; input?: string }) => {
      const overrides = opts.input ? (readJsonFile(opts.input) as object) : {};
      const started = await startCycle(await ctx.temporal(), {
        taskQueue: ctx.config.temporal.taskQueue,
        workflowId: opts.id,
        input: { ...overrides, agent: opts.agent },
      });
      print(`started ${started.workflowId}`);
    }),
  );
cycle
  .command('list')
  .option('--agent <agent>', 'only this agent')
  .action(
    action(async (ctx, opts: { agent?: string }) => {
      for (const c of await listCycles(await ctx.temporal(), opts.agent)) {
        console.log(
          `${c.cycleId.padEnd(48)} ${c.status.padEnd(10)} ${(c.stage ?? '-').padEnd(20)} ${c.outcome ?? '-'}`,
        );
      }
    }),
  );
cycle
  .command('status <cycleId>')
  .description('the live status (JSON) from the workflow')
  .action(action(async (ctx, id: string) => print(await cycleStatus(await ctx.temporal(), id))));
cycle
  .command('show <cycleId>')
  .description(
    'the cycle report: stages, the diagnosis (clusters, fixes, judge agreement), gate assertions, rollout steps',
  )
  .action(
    action(async (ctx, id: string) => {
      const status = await cycleStatus(await ctx.temporal(), id);
      console.log(renderCycleDetails(status));
      const records = await storedCycleRecords(await ctx.database(), id);
      if (records.diagnosis !== undefined) console.log(`\n${records.diagnosis}`);
      if (records.gate) console.log('\n' + renderGateReportMarkdown(records.gate));
      if (records.rolloutSteps.length) {
        console.log('\n### Rollout analyses');
        for (const s of records.rolloutSteps)
          console.log(
            `- step ${s.step_index + 1} at ${s.weight}% (round ${s.round + 1}): ${s.verdict} — ${(s.metrics as { reason: string }).reason}`,
          );
      }
    }),
  );

program
  .command('kpis <agent>')
  .description(
    'flywheel KPIs: lift (gate Δ, online Δ), loop time, annotation drain, canary success rate, cost per cycle',
  )
  .option('--cycles <n>', 'how many of the newest cycles', (v) => Number(v), DEFAULT_KPI_CYCLES)
  .option('--json', 'print JSON')
  .action(
    action(async (ctx, agent: string, opts: { cycles: number; json?: boolean }) => {
      const kpis = await kpisOfAgent(await ctx.database(), agent, opts.cycles);
      console.log(opts.json ? JSON.stringify(kpis, null, 2) : renderAgentKpis(kpis));
    }),
  );

program
  .command('online <agent>')
  .description("online evaluation's spend today and latest runs, the drift check and its latest alerts")
  .option('--json', 'print JSON')
  .action(
    action(async (ctx, agent: string, opts: { json?: boolean }) => {
      const status = await onlineEvaluationStatus(await ctx.database(), agent, new Date());
      console.log(opts.json ? JSON.stringify(status, null, 2) : renderOnlineStatus(status));
    }),
  );

refusingIdentityOptions(program.command('approve <cycleId>'))
  .description(
    "approve the gated candidate as yourself (an approver from the agent's policy; counts toward its N-person rule); the API signs your decision",
  )
  .option('--comment <text>')
  .action(
    action(async (ctx, id: string, opts: { comment?: string }) => {
      refuseIdentityValues(opts);
      const r = ApprovalResult.parse(
        await callApi(ctx, 'POST', `/api/cycles/${encodeURIComponent(id)}/approve`, {
          ...(opts.comment ? { comment: opts.comment } : {}),
        }),
      );
      console.log(
        r.decision === 'pending'
          ? `${id}: approval recorded (${r.approvals}/${r.required}); waiting for ${r.required - r.approvals} more approver(s)`
          : `${id}: ${r.decision} by ${r.decidedBy}; the staged rollout starts now (flywheel rollout status ${id}-rollout)`,
      );
    }),
  );
refusingIdentityOptions(program.command('reject <cycleId>'))
  .description('reject the gated candidate as yourself, with a reason; the cycle ends without rollout')
  .requiredOption('--reason <text>', 'why')
  .action(
    action(async (ctx, id: string, opts: { reason: string }) => {
      refuseIdentityValues(opts);
      const r = ApprovalResult.parse(
        await callApi(ctx, 'POST', `/api/cycles/${encodeURIComponent(id)}/reject`, {
          reason: opts.reason,
        }),
      );
      console.log(`${id}: ${r.decision} by ${r.decidedBy}`);
    }),
  );

const schedule = program.command('schedule').description('weekly cycles from Temporal Schedules');
schedule
  .command('create')
  .description('create or update (idempotent) the weekly schedule of an agent')
  .requiredOption('--agent <agent>')
  .requiredOption('--cron <expr>', "5-field cron, e.g. '0 9 * * MON'")
  .option('--timezone <tz>', 'IANA time zone (default UTC)')
  .option('--input <file>', 'JSON cycle input overrides')
  .action(
    action(async (ctx, opts: { agent: string; cron: string; timezone?: string; input?: string }) => {
      const input = opts.input ? (readJsonFile(opts.input) as object) : undefined;
      const r = await upsertSchedule(await ctx.temporal(), {
        agent: opts.agent,
        cron: opts.cron,
        timezone: opts.timezone,
        taskQueue: ctx.config.temporal.taskQueue,
        input,
      });
      console.log(`${r.created ? 'created' : 'updated'} schedule ${r.scheduleId}`);
    }),
  );
schedule.command('list').action(
  action(async (ctx) => {
    for (const s of await listSchedules(await ctx.temporal())) {
      console.log(
        `${s.scheduleId.padEnd(32)} ${s.paused ? 'paused ' : 'active '} next ${s.next?.toISOString() ?? '-'}`,
      );
    }
  }),
);
for (const [name, fn, done] of [
  ['pause', pauseSchedule, 'paused'],
  ['unpause', unpauseSchedule, 'unpaused'],
  ['trigger', triggerSchedule, 'triggered (skipped if a cycle is already running)'],
  ['delete', deleteSchedule, 'deleted'],
] as const) {
  schedule
    .command(name)
    .requiredOption('--agent <agent>')
    .action(
      action(async (ctx, opts: { agent: string }) => {
        await fn(await ctx.temporal(), opts.agent);
        console.log(`schedule of ${opts.agent} ${done}`);
      }),
    );
}
schedule
  .command('describe')
  .requiredOption('--agent <agent>')
  .action(
    action(async (ctx, opts: { agent: string }) =>
      print(await describeSchedule(await ctx.temporal(), opts.agent)),
    ),
  );

await program.parseAsync(process.argv);
