// Builds the web console (console/) into console/dist, which the API serves under /console/.
// `npm install` runs it (scripts/provision.ts) and `flywheel dev` checks it before the API
// starts; both skip the build when dist was built from the same sources. By hand:
//   npm run console:build [-- --force]
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

export const CONSOLE_ROOT = fileURLToPath(new URL('../console/', import.meta.url));
export const CONSOLE_DIST = path.join(CONSOLE_ROOT, 'dist');
/** Written last into dist: the hash of the sources it was built from. */
const STAMP = '.source-hash';

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    return entry.isDirectory() ? filesUnder(full) : [full];
  });
}

/**
 * What the bundle depends on: the console's sources, its build config, the server modules
 * it imports types from do not count (types are erased), and the versions of the packages
 * it bundles (a package-lock change rebuilds).
 */
export function consoleSourceHash(): string {
  const hash = createHash('sha256');
  const files = [
    ...filesUnder(path.join(CONSOLE_ROOT, 'src')),
    path.join(CONSOLE_ROOT, 'index.html'),
    path.join(CONSOLE_ROOT, 'vite.config.ts'),
    fileURLToPath(new URL('../package-lock.json', import.meta.url)),
  ].sort();
  for (const file of files) {
    hash.update(path.relative(CONSOLE_ROOT, file));
    hash.update(readFileSync(file));
  }
  return hash.digest('hex');
}

export const consoleIsCurrent = (): boolean => {
  const stamp = path.join(CONSOLE_DIST, STAMP);
  return existsSync(stamp) && readFileSync(stamp, 'utf8') === consoleSourceHash();
};

/**
 * Builds the console unless dist is current. The build goes to a directory of its own and
 * replaces dist in one rename, so an API serving the old files never sees half a build.
 */
export async function ensureConsoleBuilt(
  options: { force?: boolean } = {},
): Promise<{ built: boolean; ms: number }> {
  const started = performance.now();
  if (!options.force && consoleIsCurrent()) return { built: false, ms: 0 };
  const hash = consoleSourceHash();
  const outDir = path.join(CONSOLE_ROOT, `dist.building-${process.pid}`);
  // Vite only when building: the API and the CLI never load it otherwise.
  const { build } = await import('vite');
  try {
    await build({
      configFile: path.join(CONSOLE_ROOT, 'vite.config.ts'),
      build: { outDir },
      logLevel: 'warn',
    });
    writeFileSync(path.join(outDir, STAMP), hash);
    rmSync(CONSOLE_DIST, { recursive: true, force: true });
    renameSync(outDir, CONSOLE_DIST);
  } finally {
    rmSync(outDir, { recursive: true, force: true });
  }
  return { built: true, ms: Math.round(performance.now() - started) };
}

/**
 * What the first page costs to download: the HTML shell plus every script and stylesheet it
 * loads (the whole bundle: the console has one entry chunk), raw and gzipped.
 */
export function consoleBundleSize(): { files: number; bytes: number; gzipBytes: number } {
  const files = [path.join(CONSOLE_DIST, 'index.html'), ...filesUnder(path.join(CONSOLE_DIST, 'assets'))];
  let bytes = 0;
  let gzipBytes = 0;
  for (const file of files) {
    const data = readFileSync(file);
    bytes += statSync(file).size;
    gzipBytes += gzipSync(data, { level: 9 }).length;
  }
  return { files: files.length, bytes, gzipBytes };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { built, ms } = await ensureConsoleBuilt({ force: process.argv.includes('--force') });
  const size = consoleBundleSize();
  console.log(
    `${built ? `built console/dist in ${ms} ms` : 'console/dist is current'}: ${size.files} files, ${(size.bytes / 1024).toFixed(1)} KB, ${(size.gzipBytes / 1024).toFixed(1)} KB gzipped`,
  );
}
