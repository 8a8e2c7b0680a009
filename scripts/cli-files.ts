import { readFileSync } from 'node:fs';
import type { CliContext } from './cli-context.js';
import { UserError } from '../schemas/user-error.js';

/** How scripts/flywheel.ts wraps a command: connections, one-line user errors, exit code. */
export type CliAction = <A extends unknown[]>(
  fn: (ctx: CliContext, ...args: A) => Promise<void>,
) => (...args: A) => Promise<void>;

export function readTextFile(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    throw new UserError(`Cannot read ${file}: does the file exist?`);
  }
}

/** `what` names the content in the error, e.g. "rollout steps" or "chat messages". */
export function readJsonFile(file: string, what?: string): unknown {
  const text = readTextFile(file);
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new UserError(
      `${file} is not valid JSON${what ? ` (${what})` : ''}: ${e instanceof Error ? e.message : String(e)}`,
    );
  }
}
