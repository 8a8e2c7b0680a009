import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import type { Principal } from '../schemas/principal.js';
import { UserError } from '../schemas/user-error.js';
import { createPrincipalVerifier } from '../registry/principal-service.js';
import type { CliContext } from './cli-context.js';

/**
 * Who the CLI acts as: the personal token in FLYWHEEL_TOKEN, else the one `flywheel login`
 * stored in the user's configuration directory ($XDG_CONFIG_HOME/flywheel/credentials.json,
 * by default ~/.config/flywheel/credentials.json; the folder 0700, the file 0600, as ssh
 * keeps its keys). The token is checked like the API checks it, so the CLI never acts as
 * someone a token does not prove.
 */

export const StoredCredentials = z.object({
  version: z.literal(1),
  user: z.string(),
  tokenId: z.string(),
  token: z.string().min(1),
  createdAt: z.string(),
  expiresAt: z.string().nullable(),
});
export type StoredCredentials = z.infer<typeof StoredCredentials>;

export function credentialsPath(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CONFIG_HOME || path.join(env.HOME || homedir(), '.config');
  return path.join(base, 'flywheel', 'credentials.json');
}

export function readCredentials(env: NodeJS.ProcessEnv = process.env): StoredCredentials | null {
  const file = credentialsPath(env);
  if (!existsSync(file)) return null;
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    throw new UserError(`${file} is not valid JSON: delete it and run \`flywheel login\` again.`);
  }
  const parsed = StoredCredentials.safeParse(raw);
  if (!parsed.success)
    throw new UserError(
      `${file} is not a Flywheel credentials file: delete it and run \`flywheel login\` again.`,
    );
  return parsed.data;
}

/**
 * Writes the credentials readable by their owner only: into a new file created 0600 and
 * renamed over the old one, so no moment exists where the token sits in a wider file.
 */
export function writeCredentials(
  credentials: StoredCredentials,
  env: NodeJS.ProcessEnv = process.env,
): string {
  const file = credentialsPath(env);
  const dir = path.dirname(file);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  // mkdir's mode applies only to a folder it creates; one made earlier is narrowed too.
  chmodSync(dir, 0o700);
  const temporary = path.join(dir, `.credentials-${process.pid}.json`);
  rmSync(temporary, { force: true });
  writeFileSync(temporary, `${JSON.stringify(credentials, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  renameSync(temporary, file);
  return file;
}

/** Deletes the stored credentials; false when there were none. */
export function removeCredentials(env: NodeJS.ProcessEnv = process.env): boolean {
  const file = credentialsPath(env);
  if (!existsSync(file)) return false;
  rmSync(file, { force: true });
  return true;
}

/** The token the CLI would present, and where it came from (for messages). */
export function cliToken(env: NodeJS.ProcessEnv = process.env): { token: string; source: string } | null {
  if (env.FLYWHEEL_TOKEN) return { token: env.FLYWHEEL_TOKEN, source: 'FLYWHEEL_TOKEN' };
  const stored = readCredentials(env);
  return stored && { token: stored.token, source: credentialsPath(env) };
}

/**
 * The principal the CLI acts as, verified against the database. Throws a 401 UserError that
 * says what to do when there is no token or the token opens nothing.
 */
export async function cliPrincipal(
  ctx: CliContext,
  env: NodeJS.ProcessEnv = process.env,
): Promise<Principal> {
  const found = cliToken(env);
  if (!found)
    throw new UserError('Not signed in: run `flywheel login` or set FLYWHEEL_TOKEN.', 'unauthorized');
  const principal = await createPrincipalVerifier(await ctx.database()).verifyBearer(found.token);
  if (!principal)
    throw new UserError(
      `The token from ${found.source} is not valid here (revoked, expired, its user disabled, or made by another Flywheel): run \`flywheel login\` or set FLYWHEEL_TOKEN.`,
      'unauthorized',
    );
  return principal;
}
