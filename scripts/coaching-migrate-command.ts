import type { Command } from 'commander';
import { renderBehaviour } from '../coaching/coaching-messages.js';
import { migrateContextualInstructions } from '../coaching/instruction-migration-service.js';
import { principalLabel } from '../schemas/principal.js';
import type { CliAction } from './cli-files.js';
import { actingPerson, refusingIdentityOptions } from './cli-identity.js';
import { depsOf, line, numberOption, print } from './coaching-commands.js';

/**
 * `flywheel coaching migrate AGENT [--version N] [--dry-run]`: a prompt's contextual
 * instructions as candidate coaching, and the prompt without them as a new version. Added to
 * the `coaching` command that scripts/coaching-commands.ts registers.
 */
export function registerCoachingMigrateCommand(program: Command, action: CliAction): void {
  const coaching = program.commands.find((c) => c.name() === 'coaching');
  if (!coaching) throw new Error('register the coaching command (registerCoachingCommands) first');
  refusingIdentityOptions(coaching.command('migrate <agent>'))
    .description(
      'move a prompt\'s contextual instructions ("When a customer asks …, do …") into candidate coaching, and save the prompt without them as a new version (the teacher model finds them); gate and release both together',
    )
    .option('--version <n>', "the prompt version to migrate from (default: the agent's production version)")
    .option('--dry-run', 'only show what would be migrated; nothing is stored')
    .option('--reason <text>', 'why (kept on the version and on each coaching)')
    .option('--json', 'print JSON')
    .action(
      action(
        async (
          ctx,
          agent: string,
          opts: { version?: string; dryRun?: boolean; reason?: string; json?: boolean },
        ) => {
          const by = await actingPerson(
            ctx,
            opts,
            { role: 'operator' },
            agent,
            `migrate the prompt of ${agent}`,
          );
          const version = numberOption('version', opts.version);
          const result = await migrateContextualInstructions(
            await depsOf(ctx),
            agent,
            {
              ...(version === undefined ? {} : { version }),
              ...(opts.dryRun ? { dryRun: true } : {}),
              ...(opts.reason === undefined ? {} : { reason: opts.reason }),
            },
            principalLabel(by),
          );
          if (opts.json) return print(result);
          if (result.instructions.length === 0) {
            console.log(
              `prompt v${result.from.version} of ${agent} has no contextual instruction to migrate`,
            );
            return;
          }
          console.log(
            `${result.instructions.length} contextual instruction(s) in prompt v${result.from.version} of ${agent}:`,
          );
          for (const item of result.instructions)
            console.log(
              `- "${item.instruction}"\n    ${item.situation}  →  ${renderBehaviour(item.behaviour)}`,
            );
          if (result.dryRun) {
            console.log('dry run: nothing was stored; run again without --dry-run to migrate them');
            return;
          }
          console.log(
            `prompt v${result.created!.version} (${result.created!.id}) leaves them out; not labelled`,
          );
          for (const c of result.coaching) console.log(`created ${line(c)}`);
          console.log(
            `gate them together: flywheel eval --agent ${agent} --version ${result.created!.version} --coaching candidates`,
          );
          console.log(
            `release them together: flywheel rollout start ${agent} ${result.created!.version} --coaching candidates`,
          );
        },
      ),
    );
}
