import type { Command } from 'commander';
import { artifactHistory, listArtifacts } from '../registry/artifact-listing-service.js';
import { rollbackArtifact, setRubric, type ArtifactChangeResult } from '../registry/artifact-service.js';
import { ARTIFACT_KINDS } from '../registry/artifact-kinds.js';
import { rubricHistory } from '../registry/artifact-listing-service.js';
import { readJsonFile, type CliAction } from './cli-files.js';
import { principalLabel } from '../schemas/principal.js';
import { actingPerson, refusingIdentityOptions } from './cli-identity.js';
import { NotFoundError, UserError } from '../schemas/user-error.js';

type Action = CliAction;

interface Why {
  reason: string;
}

function versionOption(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || Number(value) === 0)
    throw new UserError(`A version is a number (1, 2, ...), not "${value}"; nothing was changed.`);
  return Number(value);
}

const v = (n: number | null) => (n === null ? '-' : `v${n}`);

function printChange(result: ArtifactChangeResult | null): void {
  if (!result) return console.log('nothing changed: it is already like that');
  const { change, delivery } = result;
  console.log(
    `${change.agent}: ${change.artifact} ${v(change.from)} → ${v(change.to)} (audit #${change.auditId})`,
  );
  if (delivery.url)
    console.log(delivery.delivered ? 'announced on the webhook' : `webhook not delivered: ${delivery.error}`);
}

const print = (value: unknown) => console.log(JSON.stringify(value, null, 2));

/** Versions and independent rollback of every artifact a cycle depends on (`agent config`: agent-commands.ts). */
export function registerArtifactCommands(program: Command, action: Action): void {
  const artifact = program
    .command('artifact')
    .description(`versioned artifacts of an agent (${ARTIFACT_KINDS.join(', ')})`);
  artifact
    .command('list <agent>')
    .description('every artifact with its current version and what points at it')
    .action(
      action(async (ctx, agent: string) => {
        for (const a of await listArtifacts(await ctx.database(), agent)) {
          const name = a.name === null ? a.kind : `${a.kind} ${a.name}`;
          console.log(`${name.padEnd(32)} ${v(a.current).padEnd(6)} ${a.pointer}`);
        }
      }),
    );
  artifact
    .command('history <agent> <kind> [name]')
    .description('versions of one artifact, oldest first (name: policy section, rubric dimension or prompt)')
    .action(
      action(async (ctx, agent: string, kind: string, name: string | undefined) => {
        for (const e of await artifactHistory(await ctx.database(), agent, kind, name)) {
          const who = e.createdBy ? ` by ${e.createdBy}` : '';
          const why = e.reason ? ` (${e.reason})` : '';
          console.log(
            `${e.current ? '*' : ' '} v${e.version} ${e.createdAt ?? ''}${who}${why}  ${e.summary}`,
          );
        }
      }),
    );

  refusingIdentityOptions(program.command('rollback <kind> <agent> [name]'))
    .description(
      `roll one artifact back on its own (kind: ${ARTIFACT_KINDS.join(', ')}; name: policy section, rubric dimension or prompt name); default: the version before the current one`,
    )
    .option('--to <version>', 'version to go to (config version for policy and optimizer)')
    .requiredOption('--reason <text>', 'why')
    .action(
      action(
        async (ctx, kind: string, agent: string, name: string | undefined, opts: Why & { to?: string }) => {
          const by = await actingPerson(
            ctx,
            opts,
            { role: 'operator' },
            agent,
            `roll back ${kind} of ${agent}`,
          );
          printChange(
            await rollbackArtifact(await ctx.database(), {
              kind,
              agent,
              name,
              to: versionOption(opts.to),
              actor: principalLabel(by),
              reason: opts.reason,
            }),
          );
        },
      ),
    );

  const rubric = program.command('rubric').description("an agent's judge rubrics, versioned per dimension");
  rubric
    .command('list <agent>')
    .description('the active version of every judge dimension')
    .action(
      action(async (ctx, agent: string) => {
        for (const a of await listArtifacts(await ctx.database(), agent))
          if (a.kind === 'rubric')
            console.log(`${(a.name ?? '').padEnd(24)} ${v(a.current).padEnd(6)} ${a.pointer}`);
      }),
    );
  rubric
    .command('show <agent> <dimension>')
    .option('--version <n>', 'a version other than the active one')
    .action(
      action(async (ctx, agent: string, dimension: string, opts: { version?: string }) => {
        const h = await rubricHistory(await ctx.database(), agent, dimension);
        const wanted = versionOption(opts.version) ?? h.active;
        const found = h.versions.find((x) => x.version === wanted);
        if (!found) throw new NotFoundError(`Rubric ${dimension} of ${agent} has no version ${wanted}.`);
        print(found.rubric);
      }),
    );
  refusingIdentityOptions(rubric.command('set <agent> <dimension> <file>'))
    .description(
      'save a rubric (JSON: scale, title, question, criteria, ...) as the next version, made active',
    )
    .requiredOption('--reason <text>', 'why')
    .action(
      action(async (ctx, agent: string, dimension: string, file: string, opts: Why) => {
        const by = await actingPerson(ctx, opts, { role: 'operator' }, agent, `change a rubric of ${agent}`);
        printChange(
          await setRubric(await ctx.database(), {
            agent,
            dimension,
            rubric: readJsonFile(file),
            reason: opts.reason,
            actor: principalLabel(by),
          }),
        );
      }),
    );
}
