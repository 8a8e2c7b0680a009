import { sql } from 'kysely';
import type { Db } from '../../db/connection.js';

/** UTC day of an instant, as `YYYY-MM-DD`: the traces table is partitioned by it. */
export function utcDay(instant: Date | string): string {
  return new Date(instant).toISOString().slice(0, 10);
}

/**
 * Creates daily partitions on demand. Each process remembers the days it has ensured, so
 * the hot ingest path pays one round trip per new day, not per batch.
 */
export class TracePartitions {
  private readonly known = new Set<string>();

  constructor(private readonly db: Db) {}

  async ensure(days: Iterable<string>): Promise<void> {
    const missing = [...new Set(days)].filter((d) => !this.known.has(d)).sort();
    if (missing.length === 0) return;
    await sql`select flywheel_ensure_trace_partition(d) from unnest(${missing}::date[]) as d`.execute(
      this.db,
    );
    for (const d of missing) this.known.add(d);
  }

  /** Creates today's partition and the next `days` ahead, so midnight never waits on DDL. */
  async ensureAhead(now: Date, days = 2): Promise<void> {
    const list = Array.from({ length: days + 1 }, (_, i) => utcDay(new Date(now.getTime() + i * 86_400_000)));
    await this.ensure(list);
  }

  forget(day: string): void {
    this.known.delete(day);
  }

  /** Forget every day: retention in another process may have dropped any of them. */
  forgetAll(): void {
    this.known.clear();
  }
}

/** Postgres refused a row because its day's partition does not exist (SQLSTATE 23514). */
export function isMissingPartition(error: unknown): boolean {
  const e = error as { code?: string; message?: string };
  return e?.code === '23514' && /no partition of relation/.test(e.message ?? '');
}

export async function listTracePartitions(db: Db): Promise<{ name: string; day: string }[]> {
  const rows = await sql<{ name: string }>`
    select c.relname as name
    from pg_inherits i
    join pg_class c on c.oid = i.inhrelid
    join pg_class p on p.oid = i.inhparent
    where p.relname = 'traces'
    order by c.relname`.execute(db);
  return rows.rows
    .map((r) => {
      const m = /^traces_(\d{4})(\d{2})(\d{2})$/.exec(r.name);
      return m ? { name: r.name, day: `${m[1]}-${m[2]}-${m[3]}` } : null;
    })
    .filter((p): p is { name: string; day: string } => p !== null);
}

/**
 * Retention: drops every daily partition that ends on or before `now - retentionDays`.
 * Dropping a partition is instant and leaves no bloat, unlike deleting millions of rows.
 * Samples keep their redacted copies, so past cycles stay readable.
 */
export async function dropExpiredTracePartitions(
  db: Db,
  now: Date,
  retentionDays: number,
  partitions?: TracePartitions,
): Promise<string[]> {
  if (!Number.isInteger(retentionDays) || retentionDays < 1)
    throw new Error(`Retention must be a whole number of days ≥ 1, got ${retentionDays}.`);
  const cutoff = utcDay(new Date(now.getTime() - retentionDays * 86_400_000));
  const dropped: string[] = [];
  for (const p of await listTracePartitions(db)) {
    if (p.day >= cutoff) continue;
    await sql`drop table if exists ${sql.id(p.name)}`.execute(db);
    partitions?.forget(p.day);
    dropped.push(p.name);
  }
  return dropped;
}

/**
 * Dropping a partition locks the whole `traces` table (ACCESS EXCLUSIVE on the parent), and
 * while the drop waits for a running query (a weekly sample), every insert queues behind it.
 * The wait is bounded by a lock timeout and retried a few times, so ingest stalls for at most
 * a couple of seconds; a partition still busy is left for the next run.
 */
const DROP_LOCK_TIMEOUT = '2s';
const DROP_ATTEMPTS = 4;

/** Drops one daily partition, its traces with it: `gone` when it was not there, `busy` when the lock never came. */
export async function dropTracePartition(
  db: Db,
  partition: { name: string; day: string },
  partitions?: TracePartitions,
  attempts = DROP_ATTEMPTS,
): Promise<'dropped' | 'gone' | 'busy'> {
  for (let attempt = 1; attempt <= attempts; attempt++) {
    try {
      const existed = await db.transaction().execute(async (tx) => {
        await sql`set local lock_timeout = ${sql.lit(DROP_LOCK_TIMEOUT)}`.execute(tx);
        const found = await sql<{
          name: string | null;
        }>`select to_regclass(${partition.name})::text as name`.execute(tx);
        await sql`drop table if exists ${sql.id(partition.name)}`.execute(tx);
        return found.rows[0]?.name != null;
      });
      partitions?.forget(partition.day);
      return existed ? 'dropped' : 'gone';
    } catch (error) {
      if ((error as { code?: string }).code !== '55P03') throw error;
      if (attempt < attempts) await new Promise((resolve) => setTimeout(resolve, attempt * 1000));
    }
  }
  return 'busy';
}
