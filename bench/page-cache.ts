/**
 * The OS page cache of a stopped Postgres's data directory, for cold benchmark runs.
 * Restarting Postgres empties shared buffers, but the kernel still holds the files it read,
 * so a "restarted" run would read from memory. Dropping the whole page cache needs
 * /proc/sys/vm/drop_caches (root, and it would evict other people's files too); instead each
 * file is synced and `dd iflag=nocache count=0` asks the kernel (posix_fadvise DONTNEED) to
 * drop that file's pages, and `fincore` says how much of the directory is still cached.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Bytes of `dir`'s files in the page cache. */
export async function residentBytes(dir: string): Promise<number> {
  const { stdout } = await run(
    'sh',
    ['-c', 'find "$1" -type f -exec fincore --bytes --noheadings --output RES {} +', 'sh', dir],
    { maxBuffer: 64 * 1024 * 1024 },
  );
  return stdout
    .split('\n')
    .map((line) => Number(line.trim()))
    .filter((n) => Number.isFinite(n))
    .reduce((sum, n) => sum + n, 0);
}

/**
 * Writes back and drops the cached pages of every file under `dir` (dirty pages cannot be
 * dropped, hence the sync first). Only for a directory no process is writing to.
 */
export async function evictPageCache(dir: string): Promise<void> {
  await run('sh', [
    '-c',
    'find "$1" -type f -exec sync {} + && find "$1" -type f -exec sh -c \'for f; do dd if="$f" iflag=nocache count=0 status=none; done\' sh {} +',
    'sh',
    dir,
  ]);
}
