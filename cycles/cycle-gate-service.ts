import type { Db } from '../db/connection.js';
import { diffPrompt } from '../registry/prompt-service.js';
import { versionById } from '../registry/store/prompt-repository.js';
import { gateReportOfCycle } from '../release/store/gate-report-repository.js';
import { GateReport } from '../schemas/gate-report.js';
import { NotFoundError } from '../schemas/user-error.js';

/**
 * What an approver reads before deciding: the cycle's full gate report (every assertion and
 * slice; the status query carries only the first assertions) and the candidate prompt
 * against the production version it was gated against, as a unified diff.
 */
export async function cycleGateReview(db: Db, cycleId: string) {
  const row = await gateReportOfCycle(db, cycleId);
  if (!row)
    throw new NotFoundError(
      `Cycle ${cycleId} has no gate report yet: the gate runs after optimization. Try again when the cycle reaches gating.`,
    );
  const report = GateReport.parse(row.report);
  const baseline = await versionById(db, row.baseline_version_id);
  const candidate = row.candidate_version_id ? await versionById(db, row.candidate_version_id) : null;
  const version = (v: { id: string; name: string; version: number }) => ({
    id: v.id,
    name: v.name,
    version: v.version,
  });
  // A candidate that failed the gate may have no prompt version: then there is nothing to diff.
  const diff =
    candidate && candidate.name === baseline.name
      ? await diffPrompt(db, baseline.name, String(baseline.version), String(candidate.version))
      : null;
  return {
    reportId: row.id,
    candidateId: row.candidate_id,
    baseline: version(baseline),
    candidate: candidate ? version(candidate) : null,
    report,
    diff: diff ? { added: diff.added, removed: diff.removed, text: diff.diff } : null,
  };
}

export type CycleGateReview = Awaited<ReturnType<typeof cycleGateReview>>;
