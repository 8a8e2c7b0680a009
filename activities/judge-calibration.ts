import { calibrate, type DimensionCalibration, type LabelPair } from '../evaluation/judge-calibration.js';
import { agentConfig } from '../registry/store/agent-repository.js';
import type { ActivityDeps } from './activity-deps.js';
import { reviewerAndJudgeLabels } from './reviewer-judge-labels.js';

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
        const rows = await reviewerAndJudgeLabels(db, args.agent, dimension)
          // The newest label per (cycle, trace): a later correction supersedes.
          .distinctOn(['annotation_items.cycle_id', 'annotation_items.trace_id'])
          .select(['annotation_items.cycle_id', 'annotation_items.trace_id', 'cycles.started_at'])
          .orderBy('annotation_items.cycle_id')
          .orderBy('annotation_items.trace_id')
          .orderBy('annotations.created_at', 'desc')
          .orderBy('annotations.id', 'desc')
          .execute();
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
        const row = {
          agent_id: args.agent,
          labels: c.labels,
          accuracy: c.accuracy,
          kappa: c.kappa,
          f1: c.f1,
          can_gate: c.canGate,
          reason: c.reason,
        };
        await db
          .insertInto('judge_calibrations')
          .values({ cycle_id: args.cycleId, dimension, ...row })
          .onConflict((oc) => oc.columns(['cycle_id', 'dimension']).doUpdateSet(row))
          .execute();
      }
      return results;
    },
  };
}
