import { createInterface } from 'node:readline/promises';
import { UserError } from '../schemas/user-error.js';

/**
 * Reading what a person types: a secret without echo on a terminal, or the lines of stdin
 * when it is a pipe (`printf '%s\n' "$PASSWORD" | flywheel login --user alice`), so scripts
 * never put a password on a command line where `ps` shows it.
 */

let piped: Promise<string[]> | undefined;

/** Line `index` of stdin (all of it is read once); throws when stdin has fewer lines. */
export async function stdinLine(
  index: number,
  what: string,
  stdin: NodeJS.ReadStream = process.stdin,
): Promise<string> {
  piped ??= (async () => {
    let text = '';
    for await (const chunk of stdin)
      text += typeof chunk === 'string' ? chunk : (chunk as Buffer).toString('utf8');
    return text.split(/\r?\n/);
  })();
  const line = (await piped)[index];
  if (line === undefined || line === '')
    throw new UserError(`Expected ${what} on line ${index + 1} of stdin.`);
  return line;
}

/** A line typed at the terminal, echoed (a user name). */
export async function promptLine(question: string): Promise<string> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return (await rl.question(question)).trim();
  } finally {
    rl.close();
  }
}

/** A secret typed at the terminal without echo; Ctrl-C cancels. */
export function promptSecret(question: string, stdin: NodeJS.ReadStream = process.stdin): Promise<string> {
  process.stderr.write(question);
  stdin.setRawMode(true);
  stdin.setEncoding('utf8');
  stdin.resume();
  return new Promise((resolve, reject) => {
    let value = '';
    const finish = () => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write('\n');
    };
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n' || ch === '\u0004') {
          finish();
          return resolve(value);
        }
        if (ch === '\u0003') {
          finish();
          return reject(new UserError('Cancelled; nothing was changed.'));
        }
        if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1);
        else if (ch >= ' ') value += ch;
      }
    };
    stdin.on('data', onData);
  });
}

/** Whether a person is at the terminal (then prompts), or stdin is a pipe (then lines). */
export const interactive = (): boolean => process.stdin.isTTY === true;
