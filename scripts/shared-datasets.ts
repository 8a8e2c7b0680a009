import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';

const repoRoot = path.resolve(import.meta.dirname, '..');

function originDir(): string | null {
  try {
    const url = execFileSync('git', ['config', '--get', 'remote.origin.url'], {
      cwd: repoRoot,
      encoding: 'utf8',
    }).trim();
    return url.startsWith('/') || url.startsWith('.') ? path.resolve(repoRoot, url) : null;
  } catch {
    return null;
  }
}

/**
 * The shared public trace datasets (`../shared/datasets` next to the working copy) that
 * tests and benchmarks read in place rather than copying megabytes into the repository.
 * A clone elsewhere (CI clones into a temporary folder) finds them next to the repository
 * it was cloned from; FLYWHEEL_DATASETS overrides both.
 */
export function sharedDatasetsDir(): string {
  const origin = originDir();
  const candidates = [
    process.env.FLYWHEEL_DATASETS,
    path.resolve(repoRoot, '../shared/datasets'),
    origin ? path.resolve(origin, '../shared/datasets') : undefined,
  ].filter((c): c is string => typeof c === 'string' && c !== '');
  const found = candidates.find((c) => existsSync(path.join(c, 'README.md')));
  if (!found)
    throw new Error(
      `The shared datasets are not at ${candidates.join(' or ')}; set FLYWHEEL_DATASETS to the folder holding tau_bench/ and openinference_genai_fixtures/.`,
    );
  return found;
}

export function sharedDataset(relative: string): string {
  return path.join(sharedDatasetsDir(), relative);
}
