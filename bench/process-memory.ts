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

export interface TreeMemory {
  /** PSS of all the processes, MB. */
  mb: number;
  /** Of it, anonymous memory (each process's own heap: PostgreSQL's per-backend caches and work memory). */
  anonMb: number;
  /** Of it, shared memory (PostgreSQL's shared buffers, as far as they have been touched). */
  shmemMb: number;
  processes: number;
}

/** PSS of `root` and all its descendants, split by kind; null once `root` has exited. */
export function treePssMb(root: number): TreeMemory | null {
  let children: Map<number, number[]>;
  try {
    children = childrenOf();
  } catch {
    return null;
  }
  const kb = { pss: 0, anon: 0, shmem: 0 };
  let processes = 0;
  const queue = [root];
  while (queue.length > 0) {
    const pid = queue.pop()!;
    try {
      const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
      const pss = kilobytes(rollup, 'Pss');
      if (pss === null) continue;
      kb.pss += pss;
      kb.anon += kilobytes(rollup, 'Pss_Anon') ?? 0;
      kb.shmem += kilobytes(rollup, 'Pss_Shmem') ?? 0;
      processes += 1;
    } catch {
      if (pid === root) return null;
      continue;
    }
    queue.push(...(children.get(pid) ?? []));
  }
  const mb = (x: number) => +(x / 1024).toFixed(1);
  return { mb: mb(kb.pss), anonMb: mb(kb.anon), shmemMb: mb(kb.shmem), processes };
}
