/**
 * Paid model calls of a faulted run against its fault-free twin. A call is paid when the
 * model server answered 200 (a slow answer is still paid). The twin may legitimately ask the
 * same thing more than once (repeated runs of a noisy metric), so a faulted run's repeat is a
 * call beyond the twin's count for the same request. A repeat is excused when an earlier
 * answer to the same request was in flight in a process killed with SIGKILL: the answer
 * died with the process before it reached the response cache, so paying again is the only
 * way on. Every other repeat is a duplicate paid call.
 */

export interface LoggedCall {
  model: string;
  key: string;
  status?: number;
  startedAt: number;
  endedAt: number;
}

export interface PaidCallReport {
  paidFaulted: number;
  paidTwin: number;
  /** Distinct requests paid in the faulted run that the twin never made. */
  notInTwin: number;
  /** Calls beyond the twin's count for the same request. */
  repeated: number;
  /** Of those, repeats of an answer in flight at a kill -9. */
  repeatedAfterCrash: number;
  duplicatePaidCalls: number;
  /** A few of the unexcused ones, for the report. */
  examples: {
    model: string;
    key: string;
    times: number;
    twinTimes: number;
    /** Epoch ms: when the first of them was answered, and when the repeat arrived. */
    firstEndedAt: number;
    repeatStartedAt: number;
  }[];
}

/** Between the answer leaving the model server and its row in the cache: the window a kill can hit. */
export const CACHE_WRITE_GRACE_MS = 2000;

export function paidCallReport(
  faulted: readonly LoggedCall[],
  twin: readonly LoggedCall[],
  kills: readonly number[],
  graceMs = CACHE_WRITE_GRACE_MS,
): PaidCallReport {
  const paid = (calls: readonly LoggedCall[]) => calls.filter((c) => c.status === 200 && c.key !== '');
  const byKey = (calls: readonly LoggedCall[]) => {
    const m = new Map<string, LoggedCall[]>();
    for (const c of calls) {
      const k = `${c.model}\u0000${c.key}`;
      m.set(k, [...(m.get(k) ?? []), c]);
    }
    return m;
  };
  const faultedPaid = paid(faulted);
  const twinPaid = paid(twin);
  const twinCounts = byKey(twinPaid);
  let repeated = 0;
  let repeatedAfterCrash = 0;
  const examples: PaidCallReport['examples'] = [];
  let duplicates = 0;
  let notInTwin = 0;
  const inFlightAtKill = (c: LoggedCall) => kills.some((t) => c.startedAt <= t && t <= c.endedAt + graceMs);
  for (const [k, calls] of byKey(faultedPaid)) {
    if (!twinCounts.has(k)) notInTwin++;
    // A request the twin never made (asked once) is an extra call, not a repeat.
    const allowed = Math.max(1, twinCounts.get(k)?.length ?? 0);
    if (calls.length <= allowed) continue;
    const sorted = [...calls].sort((a, b) => a.startedAt - b.startedAt);
    // Each call beyond the twin's count is excused by a distinct earlier answer that a kill
    // cut off; unmatched ones are duplicates.
    const excuses = sorted.slice(0, -1).filter(inFlightAtKill).length;
    const beyond = calls.length - allowed;
    const excused = Math.min(excuses, beyond);
    repeated += beyond;
    repeatedAfterCrash += excused;
    duplicates += beyond - excused;
    if (beyond > excused && examples.length < 20) {
      const [model, key] = k.split('\u0000') as [string, string];
      examples.push({
        model,
        key: key.slice(0, 300),
        times: calls.length,
        twinTimes: allowed,
        firstEndedAt: sorted[0]!.endedAt,
        repeatStartedAt: sorted[allowed]!.startedAt,
      });
    }
  }
  return {
    paidFaulted: faultedPaid.length,
    paidTwin: twinPaid.length,
    notInTwin,
    repeated,
    repeatedAfterCrash,
    duplicatePaidCalls: duplicates,
    examples,
  };
}
