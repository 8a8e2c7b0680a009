import type { Db } from '../db/connection.js';
import { cycleReportMarkdown } from '../diagnosis/store/cycle-report-repository.js';
import { gateReportOfCycle } from '../release/store/gate-report-repository.js';
import { rolloutStepsOfCycle } from '../release/store/rollout-step-records.js';
import { GateReport } from '../schemas/gate-report.js';

/**
 * What a cycle left in Postgres besides its workflow status, for `flywheel cycle show`: the
 * diagnosis report (Markdown), the gate report, and every rollout analysis step.
 */
export async function storedCycleRecords(db: Db, cycleId: string) {
  const [diagnosis, gate, rolloutSteps] = await Promise.all([
    cycleReportMarkdown(db, cycleId),
    gateReportOfCycle(db, cycleId),
    rolloutStepsOfCycle(db, cycleId),
  ]);
  return { diagnosis, gate: gate ? GateReport.parse(gate.report) : undefined, rolloutSteps };
}
