import { Option, type Command } from 'commander';
import { assertAllowed, type Principal, type Requirement } from '../schemas/principal.js';
import { UserError } from '../schemas/user-error.js';
import type { CliContext } from './cli-context.js';
import { cliPrincipal } from './cli-credentials.js';

/** Options that named the acting person before identity came from the token. */
const IDENTITY_OPTIONS = ['actor', 'approver', 'by'] as const;

/**
 * Keeps `--actor` / `--approver` / `--by` as hidden options so a script still passing them hears
 * why they no longer count, instead of commander's bare "unknown option".
 */
export function refusingIdentityOptions(command: Command): Command {
  for (const name of IDENTITY_OPTIONS) command.addOption(new Option(`--${name} <name>`).hideHelp());
  return command;
}

const goneMessage = (option: string) =>
  `--${option} is gone: who acts comes from your credentials (\`flywheel login\`, or FLYWHEEL_TOKEN); \`flywheel whoami\` shows who you are. Nothing was changed.`;

/**
 * The person this command acts as, checked like the API checks a request: the token in
 * FLYWHEEL_TOKEN or the one `flywheel login` stored, a person's (not an agent's), holding
 * `requirement` for `agent` (or globally when null).
 */
/** Refuses `--actor` / `--approver` / `--by` given to a command that now acts as the signed-in person. */
export function refuseIdentityValues(options: object): void {
  for (const name of IDENTITY_OPTIONS)
    if ((options as Record<string, unknown>)[name] !== undefined) throw new UserError(goneMessage(name));
}

export async function actingPerson(
  ctx: CliContext,
  options: object,
  requirement: Requirement,
  agent: string | null,
  what: string,
): Promise<Extract<Principal, { kind: 'user' }>> {
  refuseIdentityValues(options);
  const principal = await cliPrincipal(ctx);
  if (principal.kind !== 'user')
    throw new UserError(
      `FLYWHEEL_TOKEN holds an agent token, which may only send traffic; use your own (\`flywheel login\`) to ${what}.`,
      'forbidden',
    );
  assertAllowed(principal, requirement, agent, what);
  return principal;
}
