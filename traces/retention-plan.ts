/**
 * What trace retention removes, per agent. Traces are partitioned by UTC day and agents share
 * the partitions, so a partition can only be dropped once every agent's retention has passed
 * it; until then each agent whose retention has passed deletes its own rows from it.
 *
 * Retention works in whole UTC days, like the partitions: an agent keeping N days keeps the
 * traces of the day N days before `now` and everything after, so a trace is kept at least N
 * days and goes in the first run after its day has passed that.
 */

export interface TracePartition {
  name: string;
  /** `YYYY-MM-DD`: the partition holds traces started in that UTC day. */
  day: string;
}

export interface AgentRetention {
  agent: string;
  retentionDays: number;
}

export interface RetentionPlan {
  /** Per agent: its rows that started before `before` (the start of `keepFrom`) go. */
  agents: (AgentRetention & { keepFrom: string; before: string })[];
  /** Partitions older than every agent's retention: dropped whole. */
  drop: TracePartition[];
  /** Rows of one agent in a partition that stays for the others. */
  purge: { partition: TracePartition; agent: string; before: string }[];
}

const DAY_MS = 86_400_000;

/** The first UTC day an agent keeping `days` days keeps. */
export function keepFromDay(now: Date, days: number): string {
  return new Date(now.getTime() - days * DAY_MS).toISOString().slice(0, 10);
}

/**
 * `fallbackDays` applies to the partitions when no agent is registered (they are empty then:
 * every trace belongs to a registered agent).
 */
export function planRetention(
  now: Date,
  partitions: readonly TracePartition[],
  agents: readonly AgentRetention[],
  fallbackDays: number,
): RetentionPlan {
  for (const a of [...agents, { agent: '(default)', retentionDays: fallbackDays }])
    if (!Number.isInteger(a.retentionDays) || a.retentionDays < 1)
      throw new Error(`Retention of ${a.agent} must be a whole number of days ≥ 1, got ${a.retentionDays}.`);
  const withCutoffs = agents.map((a) => {
    const keepFrom = keepFromDay(now, a.retentionDays);
    return { ...a, keepFrom, before: `${keepFrom}T00:00:00.000Z` };
  });
  // The longest retention decides what no agent needs any more.
  const longest = agents.length ? Math.max(...agents.map((a) => a.retentionDays)) : fallbackDays;
  const dropBefore = keepFromDay(now, longest);
  const sorted = [...partitions].sort((a, b) => (a.day < b.day ? -1 : a.day > b.day ? 1 : 0));
  const drop = sorted.filter((p) => p.day < dropBefore);
  const purge = sorted
    .filter((p) => p.day >= dropBefore)
    .flatMap((partition) =>
      withCutoffs
        .filter((a) => partition.day < a.keepFrom)
        .map((a) => ({ partition, agent: a.agent, before: a.before })),
    );
  return { agents: withCutoffs, drop, purge };
}
