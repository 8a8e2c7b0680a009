import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';

/**
 * A private virtualenv for the reference implementations the benchmarks compare against
 * (Optuna). Created on first use from bench/python/requirements.txt; returns null with a
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
  const check = spawnSync(python, ['-c', 'import optuna'], { stdio: 'ignore' });
  if (check.status !== 0) {
    console.error('installing the Python reference implementations (Optuna) into .flywheel/pyenv ...');
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
