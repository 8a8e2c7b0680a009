/**
 * Resident memory of the processes a benchmark runs, read from /proc (Linux only; elsewhere
 * every figure is null). A single process is measured by its VmRSS. A process tree such as
 * PostgreSQL (a postmaster and one backend per connection, all mapping the same shared
 * buffers) is measured by the sum of its processes' PSS, which counts each shared page
 * once, split between the processes that map it: summing their RSS would count the shared
 * buffers once per backend.
 */
import { readdirSync, readFileSync } from 'node:fs';

const kilobytes = (text: string, field: string): number | null => {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text);
  return m ? Number(m[1]) : null;
};

/** VmRSS of one process in MB; null once it has exited. */
export function rssMb(pid: number): number | null {
  try {
    const kb = kilobytes(readFileSync(`/proc/${pid}/status`, 'utf8'), 'VmRSS');
    return kb === null ? null : +(kb / 1024).toFixed(1);
  } catch {
    return null;
  }
}

function childrenOf(): Map<number, number[]> {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      // exited between the listing and the read
    }
  }
  return children;
}

/** PSS of `root` and all its descendants in MB, and how many processes that is; null once `root` has exited. */
export function treePssMb(root: number): { mb: number; processes: number } | null {
  let children: Map<number, number[]>;
  try {
    children = childrenOf();
  } catch {
    return null;
  }
  let kb = 0;
  let processes = 0;
  const queue = [root];
  while (queue.length > 0) {
    const pid = queue.pop()!;
    try {
      const pss = kilobytes(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'), 'Pss');
      if (pss === null) continue;
      kb += pss;
      processes += 1;
    } catch {
      if (pid === root) return null;
      continue;
    }
    queue.push(...(children.get(pid) ?? []));
  }
  return { mb: +(kb / 1024).toFixed(1), processes };
}
