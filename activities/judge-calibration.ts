import { calibrate, type DimensionCalibration, type LabelPair } from '../evaluation/judge-calibration.js';
import { agentConfig } from '../registry/store/agent-repository.js';
import { saveJudgeCalibration } from '../evaluation/store/judge-calibration-repository.js';
import { latestReviewerJudgeLabels } from '../evaluation/store/reviewer-judge-labels.js';
import type { ActivityDeps } from './activity-deps.js';

/** Label pairs looked at per dimension: the newest ones, across the agent's cycles. */
const MAX_PAIRS = 200;

export function createCalibrationActivities({ db }: ActivityDeps) {
  return {
    /**
     * Agreement of each judge dimension with the reviewers: the newest human labels of the
     * agent (this cycle's and earlier ones', up to 200 per dimension, so a small queue
     * still gives a stable estimate) against the judge's verdict on the same trace in the
     * same cycle. Stored per cycle; a dimension below the agent's floor cannot gate.
     */
    async calibrateJudges(args: { cycleId: string; agent: string }): Promise<DimensionCalibration[]> {
      const ev = (await agentConfig(db, args.agent)).evaluation;
      const results: DimensionCalibration[] = [];
      for (const dimension of ev.judge.dimensions) {
        const rows = await latestReviewerJudgeLabels(db, args.agent, dimension);
        const pairs: LabelPair[] = rows
          .filter(
            (r) => (r.human === 'pass' || r.human === 'fail') && (r.judge === 'pass' || r.judge === 'fail'),
          )
          .sort(
            (a, b) => b.started_at.getTime() - a.started_at.getTime() || a.trace_id.localeCompare(b.trace_id),
          )
          .slice(0, MAX_PAIRS)
          .map((r) => ({ human: r.human as 'pass' | 'fail', judge: r.judge as 'pass' | 'fail' }));
        const c = calibrate(dimension, pairs, ev.calibration);
        results.push(c);
        await saveJudgeCalibration(db, args.cycleId, args.agent, c);
      }
      return results;
    },
  };
}
