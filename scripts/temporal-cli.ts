import { spawnSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';

export const TEMPORAL_CLI_MODULE = 'github.com/temporalio/cli/cmd/temporal@v1.5.1';

function onPath(name: string): string | null {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    if (existsSync(candidate)) return candidate;
  }
  return null;
}

function goBinDir(): string | null {
  const go = spawnSync('go', ['env', 'GOPATH'], { encoding: 'utf8' });
  if (go.status !== 0 || !go.stdout.trim()) return null;
  return path.join(go.stdout.trim().split(path.delimiter)[0]!, 'bin');
}

/** Where the Temporal CLI is, looking at TEMPORAL_CLI, then PATH, then the Go bin folder. */
export function findTemporalCli(): string | null {
  const exe = process.platform === 'win32' ? 'temporal.exe' : 'temporal';
  if (process.env.TEMPORAL_CLI && existsSync(process.env.TEMPORAL_CLI)) return process.env.TEMPORAL_CLI;
  const fromPath = onPath(exe);
  if (fromPath) return fromPath;
  const bin = goBinDir();
  if (bin && existsSync(path.join(bin, exe))) return path.join(bin, exe);
  return null;
}

export const MISSING_CLI_MESSAGE = [
  'The Temporal CLI (which runs the dev server and Web UI) was not found and could not be built.',
  'Install Go 1.22 or newer (https://go.dev/dl/) and run:',
  `  go install ${TEMPORAL_CLI_MODULE}`,
  'or install the CLI another way (https://docs.temporal.io/cli#install) and put `temporal` on PATH,',
  'or point TEMPORAL_CLI at the binary. Then run `npm install` again.',
].join('\n');

/** Finds the CLI or builds it with `go install`, streaming Go's progress to the terminal. */
export async function ensureTemporalCli(log: (line: string) => void = console.log): Promise<string> {
  const found = findTemporalCli();
  if (found) return found;
  if (spawnSync('go', ['version']).status !== 0) throw new Error(MISSING_CLI_MESSAGE);
  log(
    `Temporal CLI not found: building ${TEMPORAL_CLI_MODULE} with go install (a few minutes the first time)…`,
  );
  const code = await new Promise<number | null>((resolve) => {
    const child = spawn('go', ['install', '-v', TEMPORAL_CLI_MODULE], {
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    child.on('close', resolve);
    child.on('error', () => resolve(-1));
  });
  const built = findTemporalCli();
  if (code !== 0 || !built) throw new Error(`go install exited with ${code}.\n${MISSING_CLI_MESSAGE}`);
  log(`Temporal CLI ready: ${built}`);
  return built;
}
