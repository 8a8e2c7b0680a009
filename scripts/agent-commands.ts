import type { Command } from 'commander';
import {
  createAgent,
  listAgents,
  showAgent,
  updateAgent,
  type AgentDetails,
  type AgentSummary,
  type AgentUpdate,
} from '../registry/agent-service.js';
import { agentConfigVersions } from '../registry/artifact-listing-service.js';
import { setAgentConfig, type ArtifactChangeResult } from '../registry/artifact-service.js';
import { parseKeyValue } from '../registry/config-keys.js';
import { describeRule, parseRuleArgument, type AttributionRule } from '../schemas/agent-attribution.js';
import { NotFoundError, UserError } from '../schemas/user-error.js';
import { readJsonFile, type CliAction } from './cli-files.js';
import { principalLabel } from '../schemas/principal.js';
import { actingPerson, refusingIdentityOptions } from './cli-identity.js';

const collect = (value: string, previous: string[]) => [...previous, value];

function rulesOf(args: readonly string[]): AttributionRule[] {
  return args.map((text) => {
    const parsed = parseRuleArgument(text);
    if (!parsed.ok) throw new UserError(`${parsed.error}; nothing was changed.`);
    return parsed.rule;
  });
}

const when = (d: Date | null) => (d ? new Date(d).toISOString().replace(/\.\d+Z$/, 'Z') : '-');
const count = (c: { count: number; exact: boolean }) => `${c.exact ? '' : '~'}${c.count}`;

function lastCycle(a: AgentSummary): string {
  return a.lastCycle ? `${a.lastCycle.cycleId} (${a.lastCycle.stage}, ${a.lastCycle.outcome})` : '-';
}

function renderList(agents: readonly AgentSummary[]): string {
  if (agents.length === 0) return 'no agents yet: flywheel agent create <id>';
  const rows = agents.map((a) => [
    a.id,
    a.displayName || '-',
    `${a.retentionDays}d`,
    count(a.traces.last7Days),
    when(a.traces.lastTraceAt),
    lastCycle(a),
  ]);
  const header = ['agent', 'name', 'retention', 'traces 7d', 'last trace', 'last cycle'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  return [header, ...rows]
    .map((r) =>
      r
        .map((c, i) => c.padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

function renderAgent(a: AgentDetails): string {
  const lines = [
    `${a.id}${a.displayName ? ` — ${a.displayName}` : ''}`,
    ...(a.description ? [a.description] : []),
    `registered      ${when(a.createdAt)}`,
    `configuration   ${a.configVersion === null ? 'as registered' : `v${a.configVersion}`}${a.configError ? `  INVALID: ${a.configError}` : ''}`,
    `retention       ${a.retentionDays} days`,
    `attribution     ${a.attribution.length ? a.attribution.map(describeRule).join('; ') : 'spans sent with its tokens only'}`,
    `traces          ${count(a.traces.last7Days)} in the last 7 days, newest ${when(a.traces.lastTraceAt)}`,
    `last cycle      ${lastCycle(a)}`,
    '',
    JSON.stringify(a.config, null, 2),
  ];
  return lines.join('\n');
}

function renderUpdate(u: AgentUpdate): string {
  if (!u.changed) return `${u.agent.id}: nothing changed: it is already like that`;
  const version =
    u.configVersion && u.configVersion.to !== u.configVersion.from
      ? ` (configuration v${u.configVersion.from} → v${u.configVersion.to})`
      : '';
  return `${u.agent.id}: changed ${u.changes.join(', ')}${version}`;
}

function printChange(result: ArtifactChangeResult | null): void {
  if (!result) return console.log('nothing changed: it is already like that');
  const { change, delivery } = result;
  const v = (n: number | null) => (n === null ? '-' : `v${n}`);
  console.log(
    `${change.agent}: ${change.artifact} ${v(change.from)} → ${v(change.to)} (audit #${change.auditId})`,
  );
  if (delivery.url)
    console.log(delivery.delivered ? 'announced on the webhook' : `webhook not delivered: ${delivery.error}`);
}

function versionOption(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || Number(value) === 0)
    throw new UserError(`A version is a number (1, 2, ...), not "${value}"; nothing was changed.`);
  return Number(value);
}

/** `flywheel agent …`: register, list, inspect and change agents. */
export function registerAgentCommands(program: Command, action: CliAction): void {
  const agent = program
    .command('agent')
    .description('agents: register, list, show and change them (their tokens: flywheel token)');

  refusingIdentityOptions(agent.command('create <id>'))
    .description(
      'register an agent (letters, digits, dot, dash, underscore); then: flywheel token create --agent <id>',
    )
    .option('--name <text>', 'display name')
    .option('--description <text>')
    .option('--config <file>', 'JSON file with configuration sections (the rest take their defaults)')
    .option('--reason <text>')
    .action(
      action(
        async (
          ctx,
          id: string,
          opts: { name?: string; description?: string; config?: string; reason?: string },
        ) => {
          const by = await actingPerson(ctx, opts, { role: 'admin' }, null, `register agent ${id}`);
          const created = await createAgent(
            await ctx.database(),
            {
              id,
              ...(opts.name === undefined ? {} : { displayName: opts.name }),
              ...(opts.description === undefined ? {} : { description: opts.description }),
              ...(opts.config ? { config: readJsonFile(opts.config, 'agent configuration') } : {}),
              actor: principalLabel(by),
              ...(opts.reason ? { reason: opts.reason } : {}),
            },
            new Date(),
          );
          console.log(
            `registered ${created.id}; send its traces with a token: flywheel token create --agent ${id}`,
          );
        },
      ),
    );

  agent
    .command('list')
    .description('every agent with its retention, traffic of the last 7 days and last cycle')
    .option('--json', 'print JSON')
    .action(
      action(async (ctx, opts: { json?: boolean }) => {
        const agents = await listAgents(await ctx.database(), new Date());
        console.log(opts.json ? JSON.stringify(agents, null, 2) : renderList(agents));
      }),
    );

  agent
    .command('show <id>')
    .description('one agent: names, retention, attribution, traffic, last cycle and its whole configuration')
    .option('--json', 'print JSON')
    .action(
      action(async (ctx, id: string, opts: { json?: boolean }) => {
        const shown = await showAgent(await ctx.database(), id, new Date());
        console.log(opts.json ? JSON.stringify(shown, null, 2) : renderAgent(shown));
      }),
    );

  refusingIdentityOptions(agent.command('set <id> [keys...]'))
    .description(
      'change configuration keys (retentionDays=14 sampling.rate=0.1; values are JSON, else text; key=null restores the default), names and attribution rules, as one new configuration version',
    )
    .option('--name <text>', 'display name')
    .option('--description <text>')
    .option(
      '--match <attribute=value[,attribute=value]>',
      "OTLP spans whose resource has these attributes are this agent's (repeatable), e.g. service.name=checkout-bot",
      collect,
      [],
    )
    .option(
      '--unmatch <attribute=value[,attribute=value]>',
      'remove an attribution rule (repeatable)',
      collect,
      [],
    )
    .option('--reason <text>', 'why (default: what was set)')
    .action(
      action(
        async (
          ctx,
          id: string,
          keys: string[],
          opts: {
            name?: string;
            description?: string;
            match: string[];
            unmatch: string[];
            reason?: string;
          },
        ) => {
          if (
            keys.length === 0 &&
            [opts.name, opts.description].every((o) => o === undefined) &&
            opts.match.length + opts.unmatch.length === 0
          )
            throw new UserError(
              `Say what to change: KEY=VALUE arguments (e.g. retentionDays=14), --name, --description, --match or --unmatch; flywheel agent show ${id} lists the keys.`,
            );
          const set = Object.fromEntries(keys.map(parseKeyValue));
          const by = await actingPerson(ctx, opts, { role: 'operator' }, id, `change agent ${id}`);
          const updated = await updateAgent(
            await ctx.database(),
            id,
            {
              ...(opts.name === undefined ? {} : { displayName: opts.name }),
              ...(opts.description === undefined ? {} : { description: opts.description }),
              ...(keys.length ? { set } : {}),
              ...(opts.match.length ? { match: rulesOf(opts.match) } : {}),
              ...(opts.unmatch.length ? { unmatch: rulesOf(opts.unmatch) } : {}),
              actor: principalLabel(by),
              ...(opts.reason ? { reason: opts.reason } : {}),
            },
            new Date(),
          );
          console.log(renderUpdate(updated));
        },
      ),
    );

  const config = agent.command('config').description("an agent's configuration, versioned");
  config
    .command('show <agent>')
    .option('--version <n>', 'an earlier version')
    .action(
      action(async (ctx, id: string, opts: { version?: string }) => {
        const versions = await agentConfigVersions(await ctx.database(), id);
        const wanted = versionOption(opts.version) ?? versions.at(-1)!.version;
        const found = versions.find((x) => x.version === wanted);
        if (!found) throw new NotFoundError(`Agent ${id} has no configuration version ${wanted}.`);
        console.log(JSON.stringify(found.config, null, 2));
      }),
    );
  refusingIdentityOptions(config.command('set <agent> <file>'))
    .description('set the whole configuration, or with --section one section (the file holds its value)')
    .option('--section <name>', 'replace only this section')
    .requiredOption('--reason <text>', 'why')
    .action(
      action(async (ctx, id: string, file: string, opts: { reason: string; section?: string }) => {
        const by = await actingPerson(
          ctx,
          opts,
          { role: 'operator' },
          id,
          `change the configuration of ${id}`,
        );
        const { update, result } = await setAgentConfig(await ctx.database(), {
          agent: id,
          value: readJsonFile(file),
          section: opts.section,
          actor: principalLabel(by),
          reason: opts.reason,
        });
        printChange(result);
        if (update.changed) console.log(`sections changed: ${update.sections.join(', ')}`);
      }),
    );
}
