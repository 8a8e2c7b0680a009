import type { DriftConfig } from '../../schemas/drift-config.js';

// The configuration is part of the agent's (schemas/); the detector's modules import it from here.
export {
  DRIFT_METRICS,
  DriftConfig,
  DriftMetric,
  type DriftConfigInput,
} from '../../schemas/drift-config.js';

export const HOUR_MS = 3_600_000;
export const THIRTY_DAYS_MS = 30 * 24 * HOUR_MS;

/** The significance level of one test at one check, for `tests` tests at that check. */
export function perTestAlpha(config: DriftConfig, tests: number): number {
  const checksPer30Days = THIRTY_DAYS_MS / (config.checkEveryMinutes * 60_000);
  return config.falseAlarmsPer30Days / checksPer30Days / Math.max(1, tests);
}
