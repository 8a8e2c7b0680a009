import type { Command } from 'commander';
import {
  coachingHistory,
  createCoaching,
  listCoaching,
  promoteCoaching,
  retireCoaching,
  showCoaching,
  testCoaching,
  type CoachingDeps,
  type CoachingView,
} from '../coaching/coaching-service.js';
import { renderBehaviour } from '../coaching/coaching-messages.js';
import { situationEmbedderFor } from '../coaching/situation-embedder.js';
import type { LlmClient } from '../llm/llm-client.js';
import { createLlmRoles } from '../llm/llm-roles.js';
import { assertAllowed, principalLabel } from '../schemas/principal.js';
import { DEFAULT_COACHING_THRESHOLD } from '../schemas/coaching.js';
import { UserError } from '../schemas/user-error.js';
import type { CliContext } from './cli-context.js';
import { cliPrincipal } from './cli-credentials.js';
import { readJsonFile, type CliAction } from './cli-files.js';
import { actingPerson, refusingIdentityOptions } from './cli-identity.js';
import { readRuntimeState } from './load-config.js';

interface CreateOptions {
  situation: string;
  reply?: string;
  tool?: string;
  args?: string;
  ask?: string;
  transfer?: string;
  trace?: string;
  step?: string;
  example?: string;
  threshold?: string;
  reason?: string;
  candidate?: boolean;
}

/** Exactly one of --reply, --tool, --ask, --transfer says what the agent should do. */
function behaviourOf(opts: CreateOptions): unknown {
  const given = (['reply', 'tool', 'ask', 'transfer'] as const).filter((k) => opts[k] !== undefined);
  if (given.length !== 1)
    throw new UserError(
      given.length === 0
        ? 'Say what the agent should do: --reply <text>, --tool <name> [--args <json>], --ask <text> (ask for confirmation) or --transfer <reason>.'
        : `Give one behaviour, not ${given.map((k) => `--${k}`).join(' and ')}.`,
    );
  if (opts.args !== undefined && opts.tool === undefined)
    throw new UserError('--args are the arguments of --tool; give the tool too.');
  if (opts.reply !== undefined) return { kind: 'reply', text: opts.reply };
  if (opts.ask !== undefined) return { kind: 'ask_confirmation', text: opts.ask };
  if (opts.transfer !== undefined) return { kind: 'transfer', reason: opts.transfer };
  let args: unknown = {};
  if (opts.args !== undefined) {
    try {
      args = JSON.parse(opts.args);
    } catch {
      throw new UserError(
        `--args must be a JSON object, e.g. '{"reservation_id":"ZFA04Y"}', not ${opts.args}.`,
      );
    }
  }
  return { kind: 'tool_call', tool: opts.tool, arguments: args };
}

export function numberOption(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n))
    throw new UserError(`--${name} must be a number, not "${value}".`);
  return n;
}

/** The service's dependencies for this command: the configured models (or those `flywheel dev` runs). */
export async function depsOf(ctx: CliContext): Promise<CoachingDeps & { teacher: LlmClient | null }> {
  const db = await ctx.database();
  const models = ctx.config.models ?? readRuntimeState(ctx.config)?.models ?? null;
  const llm = models ? createLlmRoles(models, db) : null;
  return {
    db,
    embedder: situationEmbedderFor(llm?.embedder ?? null),
    agentModel: llm?.agent ?? null,
    teacher: llm?.teacher ?? null,
  };
}

export async function viewer(ctx: CliContext, agent: string, what: string): Promise<void> {
  assertAllowed(await cliPrincipal(ctx), { role: 'viewer' }, agent, what);
}

export const line = (c: CoachingView) =>
  `${c.id}  v${c.version}  ${c.status.padEnd(7)}  ≥${c.threshold}  ${c.situation}  →  ${renderBehaviour(c.behaviour)}`;

export const print = (value: unknown) => console.log(JSON.stringify(value, null, 2));

/** `flywheel coaching create|list|show|test|retire`; roll one back with `flywheel rollback coaching <agent> <id>`. */
export function registerCoachingCommands(program: Command, action: CliAction): void {
  const coaching = program
    .command('coaching')
    .description(
      "an agent's coaching memories: situation-scoped corrections recalled at serve time (roll one back: flywheel rollback coaching <agent> <id>)",
    );
  refusingIdentityOptions(coaching.command('create <agent>'))
    .description('save a correction as coaching: the situation it applies to and what the agent should do')
    .requiredOption(
      '--situation <text>',
      'when it applies, e.g. "When a customer asks to move a basic-economy flight"',
    )
    .option('--reply <text>', 'the agent replies with this')
    .option('--tool <name>', 'the agent calls this tool')
    .option('--args <json>', "the tool call's arguments (JSON object)")
    .option('--ask <text>', 'the agent asks for confirmation with this')
    .option('--transfer <reason>', 'the agent transfers to a human')
    .option('--trace <id>', 'the trace the correction was written on')
    .option('--step <n>', 'the step of the trace (index of its messages; default: its decision)')
    .option('--example <text>', 'the request shown with it (default: the last user turn before the step)')
    .option(
      '--threshold <x>',
      `similarity (0-1) a conversation needs to recall it (default: calibrated on the embedder from the source conversation against the agent's recent ones; ${DEFAULT_COACHING_THRESHOLD} without enough of them)`,
    )
    .option('--reason <text>', 'why')
    .option(
      '--candidate',
      'create it as a candidate: not recalled in production until promoted (gate it first with flywheel eval --coaching candidates)',
    )
    .action(
      action(async (ctx, agent: string, opts: CreateOptions) => {
        const behaviour = behaviourOf(opts);
        const by = await actingPerson(ctx, opts, { role: 'reviewer' }, agent, `coach ${agent}`);
        const step = numberOption('step', opts.step);
        const threshold = numberOption('threshold', opts.threshold);
        const { coaching: created } = await createCoaching(
          await depsOf(ctx),
          agent,
          {
            situation: opts.situation,
            behaviour,
            ...(opts.example === undefined ? {} : { example: opts.example }),
            ...(opts.trace === undefined ? {} : { sourceTraceId: opts.trace }),
            ...(step === undefined ? {} : { sourceStep: step }),
            ...(threshold === undefined ? {} : { threshold }),
            ...(opts.reason === undefined ? {} : { reason: opts.reason }),
            ...(opts.candidate ? { candidate: true } : {}),
          },
          principalLabel(by),
        );
        console.log(`created ${line(created)}`);
        if (created.thresholdCalibration) {
          console.log(`threshold ${created.thresholdCalibration.summary}`);
          // With nothing to calibrate on, a situation worded unlike the requests may never be
          // recalled: an example request (or a source trace) lets the threshold fit them.
          if (created.thresholdCalibration.source === null)
            console.log(
              "  to calibrate it, give a request it should apply to: --example '<request>' (or --trace ID --step N); check with coaching test",
            );
        }
        // Without a source trace there is no step to re-run: the test needs a conversation.
        console.log(
          created.sourceTraceId
            ? `test it: flywheel coaching test ${agent} ${created.id}`
            : `test it on a conversation (a JSON array of messages): flywheel coaching test ${agent} ${created.id} --messages conversation.json`,
        );
        if (opts.candidate)
          console.log(
            `gate it: flywheel eval --agent ${agent} --coaching candidates; then: flywheel coaching promote ${agent} ${created.id} --reason <why>`,
          );
      }),
    );
  coaching
    .command('list <agent>')
    .description('every coaching at its current version')
    .option('--status <status>', 'active, retired or candidate')
    .option('--json', 'print JSON')
    .action(
      action(async (ctx, agent: string, opts: { status?: string; json?: boolean }) => {
        await viewer(ctx, agent, `list the coaching of ${agent}`);
        const all = await listCoaching(await ctx.database(), agent, opts.status);
        if (opts.json) return print(all);
        if (all.length === 0) return console.log(`${agent} has no coaching yet`);
        for (const c of all) console.log(line(c));
      }),
    );
  coaching
    .command('show <agent> <id>')
    .description('one coaching and its versions')
    .action(
      action(async (ctx, agent: string, id: string) => {
        await viewer(ctx, agent, `read the coaching of ${agent}`);
        const db = await ctx.database();
        print({
          coaching: await showCoaching(db, agent, id),
          versions: await coachingHistory(db, agent, id),
        });
      }),
    );
  refusingIdentityOptions(coaching.command('test <agent> <id>'))
    .description('re-run the step with the coaching applied through the agent model, before/after')
    .option('--messages <file>', 'a JSON array of messages to test on (default: the source trace)')
    .option('--seed <n>', 'seed of the model calls', '0')
    .action(
      action(async (ctx, agent: string, id: string, opts: { messages?: string; seed: string }) => {
        await actingPerson(ctx, opts, { role: 'reviewer' }, agent, `test a coaching of ${agent}`);
        const seed = numberOption('seed', opts.seed);
        const result = await testCoaching(await depsOf(ctx), agent, id, {
          ...(opts.messages === undefined ? {} : { messages: readJsonFile(opts.messages, 'messages') }),
          ...(seed === undefined ? {} : { seed }),
        });
        const step = (s: typeof result.before) =>
          s.action === 'respond' ? `reply: ${s.content ?? ''}` : `${s.action} ${JSON.stringify(s.arguments)}`;
        console.log(`prompt v${result.promptVersion}, coaching ${id} v${result.coaching.version}`);
        console.log(`before: ${step(result.before)}`);
        console.log(`after:  ${step(result.after)}`);
        console.log(
          result.changed ? 'the coaching changes the step' : 'the coaching does not change the step',
        );
      }),
    );
  refusingIdentityOptions(coaching.command('promote <agent> <id>'))
    .description(
      'recall a candidate coaching in production from now on (an approver, after flywheel eval --coaching candidates passes)',
    )
    .requiredOption('--reason <text>', 'why, e.g. the gate run that passed')
    .action(
      action(async (ctx, agent: string, id: string, opts: { reason: string }) => {
        const by = await actingPerson(
          ctx,
          opts,
          { role: 'approver' },
          agent,
          `promote a coaching of ${agent}`,
        );
        const { coaching: promoted } = await promoteCoaching(
          await depsOf(ctx),
          agent,
          id,
          { reason: opts.reason },
          principalLabel(by),
        );
        console.log(`promoted ${line(promoted)}`);
      }),
    );
  refusingIdentityOptions(coaching.command('retire <agent> <id>'))
    .description('stop recalling a coaching (a new version; roll back to recall it again)')
    .requiredOption('--reason <text>', 'why')
    .action(
      action(async (ctx, agent: string, id: string, opts: { reason: string }) => {
        const by = await actingPerson(
          ctx,
          opts,
          { role: 'reviewer' },
          agent,
          `retire a coaching of ${agent}`,
        );
        const { coaching: retired } = await retireCoaching(
          await depsOf(ctx),
          agent,
          id,
          { reason: opts.reason },
          principalLabel(by),
        );
        console.log(`retired ${line(retired)}`);
      }),
    );
}
