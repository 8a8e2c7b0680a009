import { hostname } from 'node:os';
import type { Command } from 'commander';
import type { Db } from '../db/connection.js';
import {
  allows,
  assertAllowed,
  describeGrant,
  principalLabel,
  ROLES,
  UserId,
  type Principal,
  type Role,
} from '../schemas/principal.js';
import { UserError } from '../schemas/user-error.js';
import { createPrincipalVerifier } from '../registry/principal-service.js';
import { loginForToken, revokeToken, type CreatedUserToken } from '../registry/user-token-service.js';
import {
  createUser,
  disableUser,
  enableUser,
  grantRole,
  listUsers,
  revokeRole,
  setPassword,
} from '../registry/user-service.js';
import {
  cliPrincipal,
  credentialsPath,
  readCredentials,
  removeCredentials,
  writeCredentials,
} from './cli-credentials.js';
import type { CliAction } from './cli-files.js';
import { interactive, promptLine, promptSecret, stdinLine } from './cli-prompt.js';

/**
 * People from the command line: `flywheel user …` (admins), `flywheel login` / `logout` /
 * `whoami`. Every change acts as the principal of the CLI's token (cliPrincipal), never as
 * a name given on the command line.
 */

function parseRole(value: string): Role {
  if (!(ROLES as readonly string[]).includes(value))
    throw new UserError(`Unknown role "${value}"; use one of ${ROLES.join(', ')}.`);
  return value as Role;
}

export function describePrincipal(principal: Principal): string {
  if (principal.kind === 'agent')
    return `${principalLabel(principal)}, scopes ${principal.scopes.join(', ')}`;
  const via = principal.via === 'token' ? `token ${principal.tokenId ?? '?'}` : 'session';
  return `${principalLabel(principal)} via ${via}: ${principal.grants.map(describeGrant).join(', ') || 'no role'}`;
}

/** A new password: twice at a terminal, or line 1 of stdin with --password-stdin. */
async function newPassword(fromStdin: boolean, line = 0): Promise<string> {
  if (fromStdin) return stdinLine(line, 'the password');
  if (!interactive())
    throw new UserError('stdin is not a terminal: pass the password on stdin with --password-stdin.');
  const first = await promptSecret('New password: ');
  if ((await promptSecret('Again: ')) !== first)
    throw new UserError('The passwords differ; nothing was changed.');
  return first;
}

/**
 * `flywheel login` without the prompts: checks the password with one service call (later an
 * API call), and stores the new personal token in the user's configuration directory,
 * revoking the token it replaces.
 */
export async function runLogin(
  db: Db,
  args: { user: string; password: string; env?: NodeJS.ProcessEnv; now?: Date },
): Promise<{ file: string; created: CreatedUserToken }> {
  const previous = readCredentials(args.env);
  const created = await loginForToken(
    db,
    { user: args.user, password: args.password, label: `flywheel login on ${hostname()}` },
    { now: args.now ?? new Date() },
  );
  const file = writeCredentials(
    {
      version: 1,
      user: created.user,
      tokenId: created.id,
      token: created.token,
      createdAt: (args.now ?? new Date()).toISOString(),
      expiresAt: created.expiresAt?.toISOString() ?? null,
    },
    args.env,
  );
  // Signing in again replaces the stored token: the one it replaces is revoked, not left working.
  if (previous && previous.tokenId !== created.id) {
    const holder = await createPrincipalVerifier(db).verifyBearer(previous.token);
    if (holder) await revokeToken(db, previous.tokenId, holder);
  }
  return { file, created };
}

/**
 * `flywheel logout`: revokes the stored token (when it still counts) and deletes the file.
 * Returns what was done, for the message.
 */
export async function runLogout(db: Db, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const stored = readCredentials(env);
  if (!stored) return `Not signed in (no ${credentialsPath(env)}).`;
  const principal = await createPrincipalVerifier(db).verifyBearer(stored.token);
  const revoked = principal ? await revokeToken(db, stored.tokenId, principal) : false;
  removeCredentials(env);
  return `Signed out ${stored.user}: ${revoked ? `token ${stored.tokenId} revoked` : 'the stored token no longer counted'}; ${credentialsPath(env)} deleted.`;
}

export function registerUserCommands(program: Command, action: CliAction): void {
  const user = program.command('user').description('people, their roles and passwords (admins)');
  user
    .command('create <id>')
    .description('create a user; without --role they can do nothing until granted one')
    .option('--role <role>', `a role to grant (${ROLES.join(', ')})`, parseRole)
    .option('--agent <agent>', 'grant the role for this agent only (default: globally)')
    .option('--display-name <name>', 'the name people read')
    .option('--password-stdin', 'read the password from line 1 of stdin')
    .option('--without-password', 'no password: the user works with personal tokens only')
    .action(
      action(
        async (
          ctx,
          id: string,
          opts: {
            role?: Role;
            agent?: string;
            displayName?: string;
            passwordStdin?: boolean;
            withoutPassword?: boolean;
          },
        ) => {
          if (opts.agent && !opts.role)
            throw new UserError('--agent needs --role: which role for that agent?');
          const name = UserId.safeParse(id);
          if (!name.success)
            throw new UserError(`"${id}": ${name.error.issues[0]?.message ?? 'not a user name'}.`);
          const actor = await cliPrincipal(ctx);
          // Before asking for a password nobody could use: the service checks this again.
          assertAllowed(actor, { role: 'admin' }, null, 'create users');
          const password = opts.withoutPassword ? undefined : await newPassword(opts.passwordStdin ?? false);
          const created = await createUser(
            await ctx.database(),
            {
              id,
              displayName: opts.displayName,
              password,
              grants: opts.role ? [{ role: opts.role, agent: opts.agent ?? null }] : [],
            },
            actor,
          );
          console.log(
            `created ${created.id} (${created.grants.map(describeGrant).join(', ') || 'no role yet: flywheel user grant'}${created.hasPassword ? '' : ', no password'})`,
          );
        },
      ),
    );
  user.command('list').action(
    action(async (ctx) => {
      for (const u of await listUsers(await ctx.database()))
        console.log(
          [
            u.id.padEnd(24),
            (u.disabledAt ? 'disabled' : 'active').padEnd(9),
            (u.hasPassword ? 'password' : 'tokens only').padEnd(12),
            u.grants.map(describeGrant).join(', ') || 'no role',
          ].join(' '),
        );
    }),
  );
  user
    .command('disable <id>')
    .description('stop a user: their sessions end and their tokens stop counting')
    .action(
      action(async (ctx, id: string) => {
        const changed = await disableUser(await ctx.database(), id, await cliPrincipal(ctx));
        console.log(changed ? `disabled ${id}` : `${id} was disabled already`);
      }),
    );
  user
    .command('enable <id>')
    .description('let a disabled user act again')
    .action(
      action(async (ctx, id: string) => {
        const changed = await enableUser(await ctx.database(), id, await cliPrincipal(ctx));
        console.log(changed ? `enabled ${id}` : `${id} was not disabled`);
      }),
    );
  for (const [name, verb] of [
    ['grant', 'grant'],
    ['revoke-role', 'revoke'],
  ] as const)
    user
      .command(`${name} <id>`)
      .description(`${verb} a role, globally or for one agent`)
      .requiredOption('--role <role>', ROLES.join(', '), parseRole)
      .option('--agent <agent>', 'for this agent only (default: globally)')
      .action(
        action(async (ctx, id: string, opts: { role: Role; agent?: string }) => {
          const request = { user: id, role: opts.role, agent: opts.agent ?? null };
          const actor = await cliPrincipal(ctx);
          const db = await ctx.database();
          const result =
            verb === 'grant'
              ? await grantRole(db, request, actor).then((r) => ({ changed: r.added, grants: r.grants }))
              : await revokeRole(db, request, actor).then((r) => ({ changed: r.removed, grants: r.grants }));
          console.log(
            `${id}${result.changed ? '' : ' (unchanged)'}: ${result.grants.map(describeGrant).join(', ') || 'no role'}`,
          );
        }),
      );
  user
    .command('set-password <id>')
    .description(
      'set a password (your own needs the current one unless you are an admin); ends their sessions',
    )
    .option(
      '--password-stdin',
      'read the new password from stdin (after the current one, when it is asked for)',
    )
    .action(
      action(async (ctx, id: string, opts: { passwordStdin?: boolean }) => {
        const actor = await cliPrincipal(ctx);
        // The service's rule: your own password needs the current one unless you are an admin.
        const needsCurrent = actor.kind === 'user' && actor.id === id && !allows(actor, { role: 'admin' });
        const fromStdin = opts.passwordStdin ?? false;
        const currentPassword = !needsCurrent
          ? undefined
          : fromStdin
            ? await stdinLine(0, 'the current password')
            : await promptSecret('Current password: ');
        const password = await newPassword(fromStdin, needsCurrent ? 1 : 0);
        await setPassword(await ctx.database(), { user: id, password, currentPassword }, actor);
        console.log(`password of ${id} set; their open sessions were ended`);
      }),
    );

  program
    .command('login')
    .description(
      'sign in with your password; stores a personal token (30 days) in ~/.config/flywheel/credentials.json',
    )
    .option('--user <id>', 'your user name (asked for at a terminal)')
    .action(
      action(async (ctx, opts: { user?: string }) => {
        let name = opts.user;
        if (name === undefined) {
          if (!interactive())
            throw new UserError('Give --user: stdin is not a terminal, so it holds the password.');
          name = await promptLine('User: ');
        }
        const password = interactive()
          ? await promptSecret('Password: ')
          : await stdinLine(0, 'the password');
        const { file, created } = await runLogin(await ctx.database(), { user: name, password });
        console.log(
          `signed in as ${created.user} (${created.grants.map(describeGrant).join(', ') || 'no role yet'}); token ${created.id} until ${created.expiresAt?.toISOString() ?? 'revoked'}, stored in ${file}`,
        );
        if (process.env.FLYWHEEL_TOKEN)
          console.log('note: FLYWHEEL_TOKEN is set and is used instead; unset it to act as this login.');
      }),
    );
  program
    .command('logout')
    .description('revoke the stored personal token and delete it')
    .action(action(async (ctx) => console.log(await runLogout(await ctx.database()))));
  program
    .command('whoami')
    .description('who the CLI acts as (FLYWHEEL_TOKEN, else the stored login) and their roles')
    .action(action(async (ctx) => console.log(describePrincipal(await cliPrincipal(ctx)))));
}

/**
 * What a first start prints, once: the admin it created and how to sign in. The password is
 * not stored anywhere it could be printed from again; a lost one is reset by another admin
 * (flywheel user set-password).
 */
export function firstAdminNotice(
  admin: { user: string; password: string },
  consoleUrl: string,
  cli = 'flywheel',
): string {
  return [
    `First start: created user "${admin.user}" (admin) with password ${admin.password}`,
    `  It is shown only this once. Sign in: ${cli} login --user ${admin.user}   (or in a browser: ${consoleUrl}/console/)`,
    `  then add people: ${cli} user create <name> --role viewer|reviewer|approver|operator|admin`,
  ].join('\n');
}
