import { HOUR_MS, type DriftConfig } from './drift-config.js';
import {
  evaluateDrift,
  initialDriftState,
  type DriftAlert,
  type DriftCheck,
  type DriftObservation,
  type DriftState,
} from './drift-detector.js';

/**
 * The detector over a stream: keeps the observations the windows still need (in time
 * order), the epoch state and the input-prototype cache between checks. Benchmarks and tests
 * feed it traffic and check times; a scheduled job would rebuild one per run from stored
 * traces and the stored state.
 */
export class DriftMonitor {
  private observations: DriftObservation[] = [];
  private readonly binCache = new Map<string, number>();
  state: DriftState;
  readonly alerts: DriftAlert[] = [];

  constructor(
    private readonly config: DriftConfig,
    startMs: number,
  ) {
    this.state = initialDriftState(startMs);
  }

  /** Adds observations; they must not be older than those already added. */
  observe(batch: readonly DriftObservation[]): void {
    for (const o of batch) {
      const last = this.observations[this.observations.length - 1];
      if (last && o.timeMs < last.timeMs) {
        throw new Error(
          `Observations must arrive in time order: ${o.traceId} is older than ${last.traceId}.`,
        );
      }
      this.observations.push(o);
    }
  }

  check(nowMs: number): DriftCheck {
    const horizon = nowMs - (this.config.currentWindowHours + this.config.referenceWindowHours) * HOUR_MS;
    let drop = 0;
    while (
      drop < this.observations.length &&
      (this.observations[drop] as DriftObservation).timeMs < horizon
    ) {
      this.binCache.delete((this.observations[drop] as DriftObservation).traceId);
      drop++;
    }
    if (drop > 0) this.observations = this.observations.slice(drop);
    const result = evaluateDrift({
      config: this.config,
      state: this.state,
      observations: this.observations,
      nowMs,
      binCache: this.binCache,
    });
    this.state = result.state;
    if (result.alert) this.alerts.push(result.alert);
    return result;
  }
}
