import type { Db } from '../db/connection.js';
import { agentProfiles } from '../registry/store/agent-repository.js';
import { DEFAULT_RETENTION_DAYS, storedRetentionDays } from '../schemas/agent-config.js';
import { UserError } from '../schemas/user-error.js';
import { planRetention, type AgentRetention } from './retention-plan.js';
import { dropTracePartition, listTracePartitions } from './store/trace-partitions.js';
import { countAgentTraces, countPartitionTraces, deleteAgentTraces } from './store/trace-row-retention.js';

/**
 * Trace retention as the daily schedule (traceRetentionWorkflow) and `flywheel traces
 * retention` run it: each agent's `retentionDays` applies to its own traces, and a daily
 * partition is dropped once every agent's retention has passed it (retention-plan.ts).
 */

export interface RetentionOptions {
  now: Date;
  /** Keep this many days for every agent instead of their settings. */
  days?: number | undefined;
  /** Report what would go, remove nothing. */
  dryRun?: boolean;
  /** Called after each batch of deleted rows and each dropped partition (activity heartbeats). */
  onProgress?: (note: string) => void;
}

export interface RetentionReport {
  dryRun: boolean;
  agents: {
    agent: string;
    retentionDays: number;
    /** The first UTC day kept. */
    keepFrom: string;
    /** Traces deleted (or, in a dry run, that would be) from partitions kept for other agents. */
    deletedTraces: number;
  }[];
  /** Partitions dropped (or that would be), with the traces they held. */
  droppedPartitions: { name: string; traces: number | null }[];
  /** What did not go as planned: an agent's retention that does not validate, a partition left busy. */
  warnings: string[];
}

/** The agents' settings, each read on its own (an invalid other section does not matter). */
async function agentRetentions(
  db: Db,
  days: number | undefined,
  warnings: string[],
): Promise<AgentRetention[]> {
  return (await agentProfiles(db)).map((p) => {
    if (days !== undefined) return { agent: p.id, retentionDays: days };
    const own = storedRetentionDays(p.config);
    if (own !== undefined) return { agent: p.id, retentionDays: own };
    warnings.push(
      `${p.id}: its stored retentionDays is not a whole number of days ≥ 1, so the default of ${DEFAULT_RETENTION_DAYS} days applied; fix it with flywheel agent set ${p.id} retentionDays=<days>`,
    );
    return { agent: p.id, retentionDays: DEFAULT_RETENTION_DAYS };
  });
}

export async function applyTraceRetention(db: Db, options: RetentionOptions): Promise<RetentionReport> {
  const { now, days, dryRun = false, onProgress = () => undefined } = options;
  if (days !== undefined && !(Number.isInteger(days) && days >= 1))
    throw new UserError(`--days must be a whole number of days ≥ 1, got ${days}; nothing was removed.`);
  const warnings: string[] = [];
  const retentions = await agentRetentions(db, days, warnings);
  const plan = planRetention(now, await listTracePartitions(db), retentions, days ?? DEFAULT_RETENTION_DAYS);
  const deleted = new Map<string, number>();
  for (const { partition, agent, before } of plan.purge) {
    const cutoff = new Date(before);
    const n = dryRun
      ? await countAgentTraces(db, partition.name, agent, cutoff)
      : await deleteAgentTraces(db, partition.name, agent, cutoff, (batch) =>
          onProgress(`${partition.name}: deleted ${batch} traces of ${agent}`),
        );
    deleted.set(agent, (deleted.get(agent) ?? 0) + n);
  }
  const droppedPartitions: RetentionReport['droppedPartitions'] = [];
  for (const partition of plan.drop) {
    if (dryRun) {
      const held = [...(await countPartitionTraces(db, partition.name)).values()].reduce((a, b) => a + b, 0);
      droppedPartitions.push({ name: partition.name, traces: held });
      continue;
    }
    const outcome = await dropTracePartition(db, partition);
    if (outcome === 'dropped') droppedPartitions.push({ name: partition.name, traces: null });
    if (outcome === 'busy')
      warnings.push(
        `${partition.name} was not dropped: queries on traces held the table past the lock timeout; the next run drops it`,
      );
    onProgress(`${partition.name}: ${outcome}`);
  }
  return {
    dryRun,
    agents: plan.agents.map((a) => ({
      agent: a.agent,
      retentionDays: a.retentionDays,
      keepFrom: a.keepFrom,
      deletedTraces: deleted.get(a.agent) ?? 0,
    })),
    droppedPartitions,
    warnings,
  };
}
