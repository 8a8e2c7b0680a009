import type { Db } from '../../db/connection.js';
import type { DiagnosisReportData } from '../diagnosis-report.js';

/**
 * cycle_reports: one diagnosis report per cycle. Writing it again (after the reviewers'
 * labels recalibrated the judge) replaces it, so the row always holds the newest report.
 */

export async function saveCycleReport(
  db: Db,
  cycleId: string,
  markdown: string,
  data: DiagnosisReportData,
): Promise<void> {
  await db
    .insertInto('cycle_reports')
    .values({ cycle_id: cycleId, markdown, data: JSON.stringify(data) })
    .onConflict((oc) => oc.column('cycle_id').doUpdateSet({ markdown, data: JSON.stringify(data) }))
    .execute();
}

/** The cycle's report as markdown, or undefined before the diagnosis wrote one. */
export async function cycleReportMarkdown(db: Db, cycleId: string): Promise<string | undefined> {
  const report = await db
    .selectFrom('cycle_reports')
    .select('markdown')
    .where('cycle_id', '=', cycleId)
    .executeTakeFirst();
  return report?.markdown;
}
