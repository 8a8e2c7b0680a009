/**
 * How much CPU other processes took while a benchmark phase ran. The benchmarks share a
 * small machine with whatever else runs on it (builds, type checks, other benchmarks), and
 * a throughput figure means little without it: every second this reads each process's CPU
 * time from /proc and splits the increase into this process's tree (the bench, its API
 * processes, its Postgres) and everything else. Linux only; elsewhere it reports nothing.
 */
import { readdirSync, readFileSync } from 'node:fs';

const TICKS_PER_SECOND = 100;

interface Sample {
  ppid: number;
  ticks: number;
}

function readProcesses(): Map<number, Sample> {
  const out = new Map<number, Sample>();
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return out;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // Fields after the command (which may hold spaces) start at state; ppid is the 2nd,
      // utime and stime the 12th and 13th.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(Number(entry), { ppid: Number(fields[1]), ticks: Number(fields[11]) + Number(fields[12]) });
    } catch {
      // exited between the listing and the read
    }
  }
  return out;
}

function descendantsOf(root: number, processes: Map<number, Sample>): Set<number> {
  const tree = new Set([root]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const [pid, { ppid }] of processes)
      if (!tree.has(pid) && tree.has(ppid)) {
        tree.add(pid);
        grew = true;
      }
  }
  return tree;
}

export interface CpuShare {
  seconds: number;
  /** Average cores used by this process and its descendants. */
  benchCores: number;
  /**
   * The CPU-seconds behind benchCores, by process: this one (a load generator, an in-process
   * importer), PostgreSQL's processes, and the other descendants (API processes). A cost per
   * item divides these by the items done, which other load on the machine hardly moves.
   */
  benchCpuSeconds: { self: number; postgres: number; children: number };
  /** Average cores used by every other process on the machine. */
  otherCores: number;
  /** The other processes that used the most, by command name, in core-seconds. */
  topOthers: { command: string; coreSeconds: number }[];
}

/** Starts watching; `stop()` returns the shares since the start. */
export function watchCpu(intervalMs = 1000): { stop(): CpuShare } {
  const started = performance.now();
  let last = readProcesses();
  let bench = 0;
  const benchTicks = { self: 0, postgres: 0, children: 0 };
  const others = new Map<number, number>();
  // Read when first charged: a short process (a type check) is gone by the end.
  const commands = new Map<number, string>();
  const commandOf = (pid: number) => {
    try {
      return (
        readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim().slice(0, 80) || `pid ${pid}`
      );
    } catch {
      return `pid ${pid}`;
    }
  };
  // The executable's name (a Postgres backend retitles its command line, a Node process's
  // arguments may hold a postgres:// URL).
  const programs = new Map<number, string>();
  const programOf = (pid: number) => {
    try {
      return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
    } catch {
      return '';
    }
  };
  const tick = () => {
    const now = readProcesses();
    const tree = descendantsOf(process.pid, now);
    for (const [pid, sample] of now) {
      // A process that started since the last read counts from zero.
      const delta = sample.ticks - (last.get(pid)?.ticks ?? 0);
      if (delta <= 0) continue;
      if (tree.has(pid)) {
        bench += delta;
        if (pid === process.pid) benchTicks.self += delta;
        else {
          if (!programs.has(pid)) programs.set(pid, programOf(pid));
          benchTicks[programs.get(pid) === 'postgres' ? 'postgres' : 'children'] += delta;
        }
      } else {
        others.set(pid, (others.get(pid) ?? 0) + delta);
        if (!commands.has(pid)) commands.set(pid, commandOf(pid));
      }
    }
    last = now;
  };
  const timer = setInterval(tick, intervalMs);
  timer.unref();
  return {
    stop() {
      clearInterval(timer);
      tick();
      const seconds = (performance.now() - started) / 1000;
      const byCommand = new Map<string, number>();
      for (const [pid, ticks] of others) {
        const command = commands.get(pid) ?? `pid ${pid}`;
        byCommand.set(command, (byCommand.get(command) ?? 0) + ticks);
      }
      const otherTicks = [...others.values()].reduce((s, t) => s + t, 0);
      return {
        seconds: +seconds.toFixed(1),
        benchCores: +(bench / TICKS_PER_SECOND / seconds).toFixed(2),
        benchCpuSeconds: {
          self: +(benchTicks.self / TICKS_PER_SECOND).toFixed(2),
          postgres: +(benchTicks.postgres / TICKS_PER_SECOND).toFixed(2),
          children: +(benchTicks.children / TICKS_PER_SECOND).toFixed(2),
        },
        otherCores: +(otherTicks / TICKS_PER_SECOND / seconds).toFixed(2),
        topOthers: [...byCommand]
          .sort((a, b) => b[1] - a[1])
          .slice(0, 5)
          .filter(([, t]) => t >= TICKS_PER_SECOND)
          .map(([command, t]) => ({ command, coreSeconds: Math.round(t / TICKS_PER_SECOND) })),
      };
    },
  };
}
