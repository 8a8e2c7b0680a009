import { UserError, USER_ERROR_STATUS, type UserErrorCode } from '../schemas/user-error.js';
import type { CliContext } from './cli-context.js';
import { cliToken } from './cli-credentials.js';
import { readRuntimeState } from './load-config.js';

const codeOfStatus = (status: number): UserErrorCode =>
  (Object.entries(USER_ERROR_STATUS).find(([, s]) => s === status)?.[0] as UserErrorCode | undefined) ??
  'invalid_input';

/**
 * The API a CLI command talks to when the API must do the work itself: signing a decision
 * for the signed-in person needs the API's key, which the CLI does not hold. FLYWHEEL_API_URL
 * first, then the URL a running `flywheel dev` announced, then the configured port here.
 */
export function apiUrlOf(ctx: CliContext, env: NodeJS.ProcessEnv = process.env): string {
  return (
    env.FLYWHEEL_API_URL ??
    readRuntimeState(ctx.config)?.apiUrl ??
    `http://127.0.0.1:${ctx.config.apiPort}`
  ).replace(/\/+$/, '');
}

/** One API call with the CLI's credentials; an error answer becomes a UserError with the API's message. */
export async function callApi<T>(
  ctx: CliContext,
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
  env: NodeJS.ProcessEnv = process.env,
): Promise<T> {
  const found = cliToken(env);
  if (!found)
    throw new UserError('Not signed in: run `flywheel login` or set FLYWHEEL_TOKEN.', 'unauthorized');
  const url = `${apiUrlOf(ctx, env)}${path}`;
  let res: Response;
  try {
    res = await fetch(url, {
      method,
      headers: {
        authorization: `Bearer ${found.token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  } catch (error) {
    throw new UserError(
      `Cannot reach the Flywheel API at ${url} (${error instanceof Error ? error.message : String(error)}): start it with \`npm start\` or \`flywheel api\`, or set FLYWHEEL_API_URL. Nothing was changed.`,
    );
  }
  const text = await res.text();
  let answer: unknown;
  try {
    answer = text ? JSON.parse(text) : undefined;
  } catch {
    answer = undefined;
  }
  if (!res.ok) {
    const message = (answer as { error?: unknown } | undefined)?.error;
    throw new UserError(
      typeof message === 'string'
        ? message
        : `${method} ${path} answered ${res.status}: ${text.slice(0, 300)}`,
      codeOfStatus(res.status),
    );
  }
  return answer as T;
}
