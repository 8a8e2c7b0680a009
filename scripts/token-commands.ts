import type { Command } from 'commander';
import {
  createAgentToken,
  listAgentTokens,
  revokeAgentToken,
  TOKEN_SCOPES,
  type TokenScope,
} from '../registry/agent-token-service.js';
import { createUserToken, listTokens, revokeToken } from '../registry/user-token-service.js';
import { describeGrant, principalLabel, ROLES, type Role } from '../schemas/principal.js';
import { UserError } from '../schemas/user-error.js';
import { cliPrincipal } from './cli-credentials.js';
import { actingPerson, refusingIdentityOptions } from './cli-identity.js';
import type { CliAction } from './cli-files.js';

/**
 * `flywheel token …`: agent tokens (`--agent A --scope …`: what an agent's traffic
 * authenticates with) and personal tokens (`--role R` or `--user U`: a person's, for the CLI
 * and CI). Personal tokens are made, listed and revoked as the CLI's signed-in principal.
 */
export function registerTokenCommands(program: Command, action: CliAction): void {
  const token = program
    .command('token')
    .description('bearer tokens: agent tokens (ingest, feedback, resolve) and personal tokens (a role)');
  refusingIdentityOptions(token.command('create'))
    .description(
      'an agent token: --agent A [--scope …]; a personal token: --role R [--agent A] [--user U] (default: yourself)',
    )
    .option('--agent <agent>', 'agent token: the agent it may act for; personal token: cap it to this agent')
    .option('--scope <scope...>', `agent token scopes (${TOKEN_SCOPES.join(', ')})`)
    .option('--role <role>', `personal token: the highest role it acts with (${ROLES.join(', ')})`)
    .option('--user <id>', 'personal token: whose (admins may create them for others)')
    .option('--label <text>', 'personal token: what it is for (shown in lists)')
    .option('--expires-days <n>', 'personal token: valid for this many days (default: until revoked)', Number)
    .action(
      action(
        async (
          ctx,
          opts: {
            agent?: string;
            scope?: string[];
            role?: string;
            user?: string;
            label?: string;
            expiresDays?: number;
          },
        ) => {
          if (opts.role !== undefined || opts.user !== undefined) {
            if (opts.scope)
              throw new UserError('--scope is for agent tokens; a personal token takes --role.');
            if (opts.role !== undefined && !(ROLES as readonly string[]).includes(opts.role))
              throw new UserError(`Unknown role "${opts.role}"; use one of ${ROLES.join(', ')}.`);
            if (opts.expiresDays !== undefined && !(opts.expiresDays > 0))
              throw new UserError('--expires-days takes a positive number of days.');
            const actor = await cliPrincipal(ctx);
            const user = opts.user ?? (actor.kind === 'user' ? actor.id : undefined);
            if (user === undefined)
              throw new UserError('An agent token cannot own a personal token: give --user.');
            const created = await createUserToken(
              await ctx.database(),
              {
                user,
                role: (opts.role as Role | undefined) ?? null,
                agent: opts.agent ?? null,
                label: opts.label ?? '',
                expiresAt:
                  opts.expiresDays === undefined
                    ? null
                    : new Date(Date.now() + opts.expiresDays * 86_400_000),
              },
              actor,
            );
            console.log(
              `personal token ${created.id} of ${created.user} (${created.grants.map(describeGrant).join(', ')}${created.expiresAt ? `, until ${created.expiresAt.toISOString()}` : ''}); shown once:\n${created.token}`,
            );
            return;
          }
          if (!opts.agent)
            throw new UserError(
              'Give --agent A for an agent token, or --role R (and --user U) for a personal token.',
            );
          const scopes = opts.scope ?? [...TOKEN_SCOPES];
          const bad = scopes.filter((s) => !(TOKEN_SCOPES as readonly string[]).includes(s));
          if (bad.length)
            throw new UserError(`Unknown scope ${bad.join(', ')}; use ${TOKEN_SCOPES.join(', ')}.`);
          // Who creates it comes from your credentials, as over HTTP: an admin of the agent.
          const by = await actingPerson(
            ctx,
            opts,
            { role: 'admin' },
            opts.agent,
            `create a token for agent ${opts.agent}`,
          );
          const created = await createAgentToken(await ctx.database(), {
            agent: opts.agent,
            scopes: scopes as TokenScope[],
            createdBy: principalLabel(by),
          });
          console.log(
            `token ${created.id} for ${opts.agent} (${scopes.join(', ')}); shown once:\n${created.token}`,
          );
        },
      ),
    );
  token
    .command('list')
    .description('agent tokens; with --user, that user’s personal tokens (yours, or anyone’s for an admin)')
    .option('--agent <agent>')
    .option('--user <id>', 'list personal tokens of this user')
    .action(
      action(async (ctx, opts: { agent?: string; user?: string }) => {
        if (opts.user !== undefined) {
          const tokens = await listTokens(await ctx.database(), { user: opts.user }, await cliPrincipal(ctx));
          for (const t of tokens)
            console.log(
              [
                t.id,
                t.user,
                t.role ?? 'all roles',
                t.agent ?? 'all agents',
                t.revokedAt ? 'revoked' : t.expiresAt && t.expiresAt <= new Date() ? 'expired' : 'active',
                t.lastUsedAt ? `used ${t.lastUsedAt.toISOString()}` : 'unused',
                t.label,
              ].join('  '),
            );
          return;
        }
        for (const t of await listAgentTokens(await ctx.database(), opts.agent))
          console.log(
            `${t.id}  ${t.agent_id}  ${t.scopes.join(',')}  by ${t.created_by}  ${t.revoked_at ? 'revoked' : 'active'}`,
          );
      }),
    );
  refusingIdentityOptions(token.command('revoke <id>'))
    .description('revoke an agent token (tok_…) or a personal token (utk_…: yours, or anyone’s for an admin)')
    .action(
      action(async (ctx, id: string, opts: object) => {
        const db = await ctx.database();
        let revoked: boolean;
        if (id.startsWith('utk_')) revoked = await revokeToken(db, id, await cliPrincipal(ctx));
        else {
          const agent = (await listAgentTokens(db)).find((t) => t.id === id)?.agent_id ?? null;
          const by = await actingPerson(ctx, opts, { role: 'admin' }, agent, `revoke token ${id}`);
          revoked = await revokeAgentToken(db, id, principalLabel(by));
        }
        if (!revoked) throw new UserError(`No active token ${id}; see \`flywheel token list\`.`);
        console.log(`revoked ${id}`);
      }),
    );
}
