import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

/** Import names of the pinned distributions (`name==version` lines), for the install check. */
function modulesOf(requirements: string): string[] {
  return readFileSync(requirements, 'utf8')
    .split('\n')
    .map((line) => line.replace(/#.*/, '').trim())
    .filter(Boolean)
    .map((line) =>
      line
        .split(/[<>=!~;[\s]/)[0]!
        .toLowerCase()
        .replace(/-/g, '_'),
    );
}

/**
 * A private virtualenv for the reference implementations the benchmarks compare against
 * (Optuna, gepa, DSPy). Created on first use from bench/python/requirements.txt, and topped up
 * when a pinned package cannot be imported (a venv made before a pin was added); returns a
 * reason when Python or PyPI is not available, so the benchmark still runs its own part.
 */
export function pythonForBenchmarks(root: string): { python: string } | { missing: string } {
  const venv = path.join(root, '.flywheel', 'pyenv');
  const python = path.join(venv, 'bin', 'python');
  const requirements = path.join(root, 'bench', 'python', 'requirements.txt');
  const system = process.env.PYTHON ?? 'python3';
  if (!existsSync(python)) {
    const made = spawnSync(system, ['-m', 'venv', venv], { stdio: 'inherit' });
    if (made.status !== 0) return { missing: `${system} -m venv failed (is Python 3 installed?)` };
  }
  const modules = modulesOf(requirements);
  const check = spawnSync(python, ['-c', `import ${modules.join(', ')}`], { stdio: 'ignore' });
  if (check.status !== 0) {
    console.error(
      `installing the Python reference implementations (${modules.join(', ')}) into .flywheel/pyenv ...`,
    );
    const pip = spawnSync(python, ['-m', 'pip', 'install', '-q', '-r', requirements], { stdio: 'inherit' });
    if (pip.status !== 0) return { missing: 'pip install -r bench/python/requirements.txt failed' };
  }
  return { python };
}

export function runPython(python: string, script: string, input: unknown): unknown {
  const run = spawnSync(python, [script], {
    input: JSON.stringify(input),
    encoding: 'utf8',
    maxBuffer: 512 * 1024 * 1024,
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  if (run.status !== 0) throw new Error(`${script} exited with ${run.status}`);
  return JSON.parse(run.stdout) as unknown;
}

/**
 * runPython without blocking the event loop, for scripts that call back into this process
 * (the simulator's HTTP server runs here). stderr passes through; stdout is the JSON answer.
 */
export function runPythonAsync(python: string, script: string, input: unknown): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const child = spawn(python, [script], { stdio: ['pipe', 'pipe', 'inherit'] });
    const chunks: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`${script} exited with ${code}`));
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown);
      } catch (e) {
        reject(new Error(`${script} did not answer with JSON: ${String(e)}`));
      }
    });
    child.stdin.end(JSON.stringify(input));
  });
}
