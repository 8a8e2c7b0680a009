import { userInfo } from 'node:os';
import type { Command } from 'commander';
import {
  createPrompt,
  diffPrompt,
  labelPrompt,
  listPromptSummaries,
  rollbackPrompt,
  showPrompt,
} from '../registry/prompt-service.js';
import { readJsonFile, readTextFile, type CliAction } from './cli-files.js';
import { UserError } from '../schemas/user-error.js';

type Action = CliAction;

const collect = (value: string, previous: string[] = []) => [...previous, value];

function printMove(answer: {
  changed: boolean;
  move: {
    name: string;
    label: string;
    from: { version: number } | null;
    to: { version: number } | null;
  } | null;
  webhook: { delivered: boolean; url: string | null; error: string | null } | null;
}): void {
  if (!answer.changed || !answer.move)
    return console.log('nothing to change: the label already points there');
  const { name, label, from, to } = answer.move;
  console.log(
    `${name}: ${label} ${from ? `v${from.version}` : '(none)'} → ${to ? `v${to.version}` : '(none)'}`,
  );
  if (answer.webhook?.url)
    console.log(
      answer.webhook.delivered ? 'announced on the webhook' : `webhook failed: ${answer.webhook.error}`,
    );
}

/** The prompt registry: versions, labels, rollback and diffs (the same operations as /api/prompts). */
export function registerPromptCommands(program: Command, action: Action): void {
  const prompt = program.command('prompt').description('prompt registry: versions, labels, rollback, diff');

  prompt
    .command('list')
    .description('every prompt with its versions, labels and latest version')
    .option('--agent <agent>', 'only the prompts of this agent')
    .action(
      action(async (ctx, opts: { agent?: string }) => {
        const prompts = await listPromptSummaries(await ctx.database(), opts.agent);
        if (prompts.length === 0) return console.log('no prompts yet');
        for (const p of prompts) {
          const labels = Object.entries(p.labels)
            .map(([l, v]) => `${l}=v${v}`)
            .join(' ');
          console.log(`${p.name}  (${p.type}, agent ${p.agent}, ${p.versions} versions)  ${labels}`);
        }
      }),
    );

  prompt
    .command('show <name>')
    .description('one version as JSON (default: the production label)')
    .option('--version <n>', 'version number')
    .option('--label <label>', 'label, e.g. production, candidate, latest')
    .action(
      action(async (ctx, name: string, opts: { version?: string; label?: string }) => {
        console.log(
          JSON.stringify(
            await showPrompt(await ctx.database(), name, { version: opts.version, label: opts.label }),
            null,
            2,
          ),
        );
      }),
    );

  prompt
    .command('diff <name> <from> <to>')
    .description('unified line diff between two versions (numbers or labels)')
    .action(
      action(async (ctx, name: string, from: string, to: string) => {
        const d = await diffPrompt(await ctx.database(), name, from, to);
        process.stdout.write(d.diff || `v${d.from.version} and v${d.to.version} have the same text\n`);
      }),
    );

  prompt
    .command('label <name> <version> <label>')
    .description('point a label at a version (audited and announced on the agent webhook)')
    .requiredOption('--actor <name>', 'who moves the label')
    .option('--reason <text>', 'why')
    .action(
      action(
        async (
          ctx,
          name: string,
          version: string,
          label: string,
          opts: { actor: string; reason?: string },
        ) => {
          if (!/^\d+$/.test(version)) throw new UserError(`version must be a number, got "${version}".`);
          printMove(
            await labelPrompt(await ctx.database(), name, {
              label,
              version: Number(version),
              actor: opts.actor,
              ...(opts.reason ? { reason: opts.reason } : {}),
            }),
          );
        },
      ),
    );

  prompt
    .command('rollback <name>')
    .description('move a label back (default: production, to where it pointed before its last move)')
    .option('--label <label>', 'label to move back', 'production')
    .option('--to <n>', 'version to go back to')
    .requiredOption('--actor <name>', 'who rolls back')
    .requiredOption('--reason <text>', 'why')
    .action(
      action(
        async (ctx, name: string, opts: { label: string; to?: string; actor: string; reason: string }) => {
          if (opts.to !== undefined && !/^\d+$/.test(opts.to))
            throw new UserError(`--to must be a version number, got "${opts.to}".`);
          printMove(
            await rollbackPrompt(await ctx.database(), name, {
              label: opts.label,
              ...(opts.to !== undefined ? { to: Number(opts.to) } : {}),
              actor: opts.actor,
              reason: opts.reason,
            }),
          );
        },
      ),
    );

  prompt
    .command('create <name>')
    .description(
      'register a new version from a file (text, or a JSON [{role, content}] list with --type chat)',
    )
    .requiredOption('--file <file>', 'the prompt text, or the chat messages as JSON')
    .option('--type <type>', 'text or chat', 'text')
    .option(
      '--agent <agent>',
      'owning agent (default: the existing owner, or the agent named like the prompt)',
    )
    .option('--config <file>', 'JSON object of model parameters')
    .option('--label <label>', 'label to point at the new version (repeatable)', collect)
    .option('--tag <tag>', 'tag (repeatable)', collect)
    .option('--message <text>', 'commit message')
    .option('--actor <name>', 'author (default: your user name)')
    .action(
      action(
        async (
          ctx,
          name: string,
          opts: {
            file: string;
            type: string;
            agent?: string;
            config?: string;
            label?: string[];
            tag?: string[];
            message?: string;
            actor?: string;
          },
        ) => {
          const body = {
            name,
            type: opts.type,
            prompt: opts.type === 'chat' ? readJsonFile(opts.file, 'chat messages') : readTextFile(opts.file),
            ...(opts.agent ? { agent: opts.agent } : {}),
            ...(opts.config ? { config: readJsonFile(opts.config, 'config') } : {}),
            labels: opts.label ?? [],
            tags: opts.tag ?? [],
            ...(opts.message ? { commitMessage: opts.message } : {}),
            actor: opts.actor ?? userInfo().username,
          };
          const created = await createPrompt(await ctx.database(), body);
          console.log(`created ${created.prompt.id} (labels: ${created.prompt.labels.join(', ') || 'none'})`);
        },
      ),
    );
}
