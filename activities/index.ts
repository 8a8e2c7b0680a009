import type { ActivityDeps } from './activity-deps.js';
import { createAnnotationActivities } from './annotation-queue.js';
import { createCycleRecordActivities } from './cycle-records.js';
import { createReportActivities } from './cycle-report.js';
import { createCalibrationActivities } from './judge-calibration.js';
import { createDatasetActivities } from './dataset-builder.js';
import { createDiagnoseActivities } from './diagnose-failures.js';
import { createOptimizationActivities } from './optimization.js';
import { createGateActivities } from './regression-gate.js';
import { createReleaseActivities } from './release-decision.js';
import { createRolloutActivities } from './rollout-steps.js';
import { createRolloutReplayActivities } from './rollout-replay.js';
import { createHumanDecisionActivities } from './human-decisions.js';
import { createSampleActivities } from './sample-traces.js';
import { createScoreActivities } from './score-traces.js';
import { createTraceRetentionActivities } from './trace-retention.js';
import { createOnlineEvaluationActivities } from './online-evaluation.js';

/** Every activity, built from its dependencies; workflows import only this type. */
export function createActivities(deps: ActivityDeps) {
  return {
    ...createCycleRecordActivities(deps),
    ...createSampleActivities(deps),
    ...createScoreActivities(deps),
    ...createDiagnoseActivities(deps),
    ...createAnnotationActivities(deps),
    ...createCalibrationActivities(deps),
    ...createReportActivities(deps),
    ...createDatasetActivities(deps),
    ...createOptimizationActivities(deps),
    ...createGateActivities(deps),
    ...createReleaseActivities(deps),
    ...createRolloutActivities(deps),
    ...createRolloutReplayActivities(deps),
    ...createHumanDecisionActivities(deps),
    ...createTraceRetentionActivities(deps),
    ...createOnlineEvaluationActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
export type { ActivityDeps };
