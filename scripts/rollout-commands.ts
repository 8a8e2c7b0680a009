import type { Command } from 'commander';
import { rolloutIdFor, rolloutState, startManualRollout } from '../release/rollout-service.js';
import type { RolloutState } from '../schemas/rollout-control.js';
import { readJsonFile, type CliAction } from './cli-files.js';
import { UserError } from '../schemas/user-error.js';
import { principalLabel } from '../schemas/principal.js';
import { callApi } from './cli-api.js';
import type { CliContext } from './cli-context.js';
import { actingPerson, refuseIdentityValues, refusingIdentityOptions } from './cli-identity.js';

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
  // Rollout actions are signed decisions: the API signs them for the signed-in operator.
  const send = (ctx: CliContext, id: string, path: string, body: object) =>
    callApi<RolloutState>(ctx, 'POST', `/api/rollouts/${encodeURIComponent(id)}/${path}`, body);
  const control = (act: 'promote' | 'pause' | 'resume' | 'abort', description: string) => {
    const command = refusingIdentityOptions(rollout.command(`${act} <id>`))
      .description(`${description}; as yourself`)
      .option('--reason <text>', 'why');
    if (act === 'promote') command.option('--full', 'skip every remaining step and go to 100%');
    command.action(
      action(async (ctx, id: string, opts: { reason?: string; full?: boolean }) => {
        refuseIdentityValues(opts);
        const body = {
          ...(opts.reason ? { reason: opts.reason } : {}),
          ...(act === 'promote' ? { full: opts.full ?? false } : {}),
        };
        console.log(render(await send(ctx, id, act, body)));
      }),
    );
  };
  control('promote', 'continue a paused rollout past the step it is paused on (--full: straight to 100%)');
  control('pause', 'hold the rollout at its current weight');
  control('resume', 'continue a paused rollout (an inconclusive analysis runs again)');
  control('abort', 'stop and roll back now: weight 0, production label restored');
  refusingIdentityOptions(rollout.command('set-weight <id> <weight>'))
    .description('set the live weight of a paused rollout by hand (0–100), as yourself')
    .option('--reason <text>', 'why')
    .action(
      action(async (ctx, id: string, weight: string, opts: { reason?: string }) => {
        refuseIdentityValues(opts);
        const body = { ...(opts.reason ? { reason: opts.reason } : {}), weight: Number(weight) };
        console.log(render(await send(ctx, id, 'weight', body)));
      }),
    );
  refusingIdentityOptions(rollout.command('start <agent> <version>'))
    .description(
      "roll out an existing prompt version over the agent's production prompt, outside a cycle, as yourself",
    )
    .option(
      '--steps <file>',
      'a JSON rollout configuration ({ steps, analysis }); default: replay, 10%, 50%, 100% with analyses',
    )
    .option(
      '--coaching <which>',
      "candidates: the agent's candidate coaching rides with the version (served to its share, promoted on completion, retired on rollback)",
    )
    .action(
      action(async (ctx, agent: string, version: string, opts: { steps?: string; coaching?: string }) => {
        const by = await actingPerson(ctx, opts, { role: 'operator' }, agent, `start a rollout for ${agent}`);
        const n = Number(version.replace(/^v/, ''));
        if (!Number.isInteger(n) || n < 1)
          throw new UserError(`"${version}" is not a version number; pass e.g. 3 or v3.`);
        if (opts.coaching !== undefined && opts.coaching !== 'candidates')
          throw new UserError(
            `--coaching takes "candidates" (the agent's candidate coaching), not "${opts.coaching}".`,
          );
        const config =
          opts.steps === undefined ? undefined : readJsonFile(opts.steps, 'rollout configuration');
        const { workflowId, coaching } = await startManualRollout(
          await ctx.temporal(),
          await ctx.database(),
          {
            taskQueue: ctx.config.temporal.taskQueue,
            agent,
            candidateVersion: n,
            actor: principalLabel(by),
            ...(config === undefined ? {} : { config }),
            ...(opts.coaching === undefined ? {} : { coaching: 'candidates' as const }),
          },
        );
        console.log(
          `started ${workflowId}${coaching.length ? ` with ${coaching.length} candidate coaching (${coaching.map((c) => c.id).join(', ')})` : ''}; watch it with: flywheel rollout status ${rolloutIdFor(workflowId)}`,
        );
      }),
    );
}
