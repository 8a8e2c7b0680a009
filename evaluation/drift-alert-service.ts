import type { Db } from '../db/connection.js';
import type { DriftAlertRow } from '../db/database.js';
import { agentExists } from '../registry/store/agent-repository.js';
import { NotFoundError, UserError } from '../schemas/user-error.js';
import type { DriftFinding } from './drift/drift-detector.js';
import { driftAlert, driftAlerts } from './store/drift-repository.js';

export const DEFAULT_DRIFT_ALERTS = 20;
export const MAX_DRIFT_ALERTS = 200;

/** A drift alert with all its evidence: what moved in which slice, and every drifted trace. */
export interface DriftAlertView {
  id: string;
  agent: string;
  at: string;
  /** The reference window started here (the epoch's start); the current window at `currentStart`. */
  referenceStart: string;
  currentStart: string;
  findings: DriftFinding[];
  /** The current window's traces that show the drift; the cycle it started samples them at 100 %. */
  driftedTraceIds: string[];
  /** How many tests the check counted when it split its false-alarm budget. */
  testsCounted: number;
  cycleId: string | null;
  notified: boolean;
}

const viewOf = (a: DriftAlertRow): DriftAlertView => ({
  id: a.id,
  agent: a.agent_id,
  at: a.at.toISOString(),
  referenceStart: a.reference_start.toISOString(),
  currentStart: a.current_start.toISOString(),
  findings: a.findings as DriftFinding[],
  driftedTraceIds: a.drifted_trace_ids,
  testsCounted: a.tests_counted,
  cycleId: a.cycle_id,
  notified: a.notified,
});

async function knownAgent(db: Db, agent: string): Promise<void> {
  if (!(await agentExists(db, agent)))
    throw new NotFoundError(`Unknown agent "${agent}"; GET /api/agents lists the agents you may read.`);
}

/** The agent's drift alerts, newest first, each with its evidence. */
export async function listDriftAlerts(
  db: Db,
  agent: string,
  limit = DEFAULT_DRIFT_ALERTS,
): Promise<{ agent: string; alerts: DriftAlertView[] }> {
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_DRIFT_ALERTS)
    throw new UserError(`limit must be a whole number from 1 to ${MAX_DRIFT_ALERTS}; got ${limit}.`);
  await knownAgent(db, agent);
  return { agent, alerts: (await driftAlerts(db, agent, limit)).map(viewOf) };
}

/** One drift alert of the agent; another agent's alert reads as unknown. */
export async function showDriftAlert(db: Db, agent: string, id: string): Promise<DriftAlertView> {
  await knownAgent(db, agent);
  const alert = await driftAlert(db, id);
  if (!alert || alert.agent_id !== agent)
    throw new NotFoundError(
      `Agent ${agent} has no drift alert "${id}"; GET /api/agents/${encodeURIComponent(agent)}/drift-alerts lists its alerts.`,
    );
  return viewOf(alert);
}
