import type { Db } from '../db/connection.js';
import { agentConfig } from '../registry/store/agent-repository.js';
import { utcDayStart } from './online/judge-budget.js';
import type { DriftFinding } from './drift/drift-detector.js';
import { driftAlerts, driftState } from './store/drift-repository.js';
import { onlineRuns, onlineSpentSince } from './store/online-evaluation-repository.js';

export interface OnlineEvaluationStatus {
  agent: string;
  online: { enabled: boolean; sampleShare: number; dailyCostCapUsd: number; spentTodayUsd: number };
  drift: {
    enabled: boolean;
    startCycleOnAlert: boolean;
    epochStart: string | null;
    lastCheckAt: string | null;
    lastCheck: Record<string, unknown> | null;
  };
  runs: {
    windowStart: string;
    windowEnd: string;
    considered: number;
    sampled: number;
    scored: number;
    failing: number;
    skippedForCap: number;
    judgeCalls: number;
    tokens: number;
    costUsd: number;
  }[];
  alerts: {
    id: string;
    at: string;
    referenceStart: string;
    currentStart: string;
    findings: DriftFinding[];
    driftedTraces: number;
    cycleId: string | null;
    notified: boolean;
  }[];
}

/**
 * What online evaluation and the drift check have done for one agent: today's spend
 * against the cap, the latest runs, the detector's state and the latest alerts with their
 * evidence. `now` decides which UTC day "today" is.
 */
export async function onlineEvaluationStatus(
  db: Db,
  agent: string,
  now: Date,
  limit = 20,
): Promise<OnlineEvaluationStatus> {
  const config = await agentConfig(db, agent);
  const [spent, runs, state, alerts] = await Promise.all([
    onlineSpentSince(db, agent, utcDayStart(now)),
    onlineRuns(db, agent, limit),
    driftState(db, agent),
    driftAlerts(db, agent, limit),
  ]);
  return {
    agent,
    online: {
      enabled: config.online.enabled,
      sampleShare: config.online.sampleShare,
      dailyCostCapUsd: config.online.dailyCostCapUsd,
      spentTodayUsd: spent,
    },
    drift: {
      enabled: config.drift.enabled,
      startCycleOnAlert: config.drift.startCycleOnAlert,
      epochStart: state?.epoch_start.toISOString() ?? null,
      lastCheckAt: state?.last_check_at?.toISOString() ?? null,
      lastCheck: state?.last_check ?? null,
    },
    runs: runs.map((r) => ({
      windowStart: r.window_start.toISOString(),
      windowEnd: r.window_end.toISOString(),
      considered: r.considered,
      sampled: r.sampled,
      scored: r.scored,
      failing: r.failing,
      skippedForCap: r.skipped_for_cap,
      judgeCalls: r.judge_calls,
      tokens: r.tokens,
      costUsd: r.cost_usd,
    })),
    alerts: alerts.map((a) => ({
      id: a.id,
      at: a.at.toISOString(),
      referenceStart: a.reference_start.toISOString(),
      currentStart: a.current_start.toISOString(),
      findings: a.findings as DriftFinding[],
      driftedTraces: a.drifted_trace_ids.length,
      cycleId: a.cycle_id,
      notified: a.notified,
    })),
  };
}
