import type { Command } from 'commander';
import {
  controlRollout,
  rolloutIdFor,
  rolloutState,
  startManualRollout,
} from '../release/rollout-service.js';
import type { RolloutState } from '../schemas/rollout-control.js';
import { readJsonFile, type CliAction } from './cli-files.js';
import { UserError } from '../schemas/user-error.js';
import { cliDecider } from './cli-decider.js';

type Action = CliAction;

function render(s: RolloutState): string {
  const steps = s.steps.map(
    (d, i) => `  ${i === s.stepIndex ? '▶' : i < s.stepIndex ? '✓' : ' '} ${i + 1}. ${d}`,
  );
  return [
    `${s.rolloutId} (${s.agent}): ${s.phase} at ${s.weight}%${s.pausedReason ? ` — ${s.pausedReason}` : ''}`,
    ...steps,
    ...(s.lastResult ? [`last result: ${s.lastResult}`] : []),
    ...(s.reason ? [`reason: ${s.reason}`] : []),
  ].join('\n');
}

/** `flywheel rollout status|promote|pause|resume|abort|set-weight|start`. */
export function registerRolloutCommands(program: Command, action: Action): void {
  const rollout = program
    .command('rollout')
    .description("watch and steer staged rollouts (ID: the rollout's workflow ID or its cycle's ID)");
  rollout
    .command('status <id>')
    .option('--json', 'print the raw state')
    .action(
      action(async (ctx, id: string, opts: { json?: boolean }) => {
        const s = await rolloutState(await ctx.temporal(), id);
        console.log(opts.json ? JSON.stringify(s, null, 2) : render(s));
      }),
    );
  const control = (act: 'promote' | 'pause' | 'resume' | 'abort', description: string) => {
    const command = rollout
      .command(`${act} <id>`)
      .description(description)
      .requiredOption('--actor <name>', 'who is acting (recorded in the audit log)')
      .option('--reason <text>', 'why');
    if (act === 'promote') command.option('--full', 'skip every remaining step and go to 100%');
    command.action(
      action(async (ctx, id: string, opts: { actor: string; reason?: string; full?: boolean }) => {
        const body = { reason: opts.reason, ...(act === 'promote' ? { full: opts.full ?? false } : {}) };
        const decider = cliDecider(ctx.config, opts.actor);
        console.log(render(await controlRollout(await ctx.temporal(), id, act, body, decider)));
      }),
    );
  };
  control('promote', 'continue a paused rollout past the step it is paused on (--full: straight to 100%)');
  control('pause', 'hold the rollout at its current weight');
  control('resume', 'continue a paused rollout (an inconclusive analysis runs again)');
  control('abort', 'stop and roll back now: weight 0, production label restored');
  rollout
    .command('set-weight <id> <weight>')
    .description('set the live weight of a paused rollout by hand (0–100)')
    .requiredOption('--actor <name>', 'who is acting')
    .option('--reason <text>', 'why')
    .action(
      action(async (ctx, id: string, weight: string, opts: { actor: string; reason?: string }) => {
        const body = { reason: opts.reason, weight: Number(weight) };
        const decider = cliDecider(ctx.config, opts.actor);
        console.log(render(await controlRollout(await ctx.temporal(), id, 'setWeight', body, decider)));
      }),
    );
  rollout
    .command('start <agent> <version>')
    .description("roll out an existing prompt version over the agent's production prompt, outside a cycle")
    .requiredOption('--actor <name>', 'who starts it')
    .option(
      '--steps <file>',
      'a JSON rollout configuration ({ steps, analysis }); default: replay, 10%, 50%, 100% with analyses',
    )
    .action(
      action(async (ctx, agent: string, version: string, opts: { actor: string; steps?: string }) => {
        const n = Number(version.replace(/^v/, ''));
        if (!Number.isInteger(n) || n < 1)
          throw new UserError(`"${version}" is not a version number; pass e.g. 3 or v3.`);
        const config =
          opts.steps === undefined ? undefined : readJsonFile(opts.steps, 'rollout configuration');
        const { workflowId } = await startManualRollout(await ctx.temporal(), await ctx.database(), {
          taskQueue: ctx.config.temporal.taskQueue,
          agent,
          candidateVersion: n,
          actor: opts.actor,
          ...(config === undefined ? {} : { config }),
        });
        console.log(
          `started ${workflowId}; watch it with: flywheel rollout status ${rolloutIdFor(workflowId)}`,
        );
      }),
    );
}
