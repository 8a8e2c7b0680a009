import type { OnlineEvaluationStatus } from '../online-evaluation-service.js';
import { describeFinding } from '../drift/drift-alert-message.js';

/** `flywheel online AGENT`: online evaluation's spend and runs, the drift check and its alerts. */
export function renderOnlineStatus(s: OnlineEvaluationStatus): string {
  const lines: string[] = [];
  const o = s.online;
  lines.push(
    o.enabled
      ? `online evaluation: on, ${(o.sampleShare * 100).toFixed(0)} % of traces, $${o.spentTodayUsd.toFixed(4)} of $${o.dailyCostCapUsd} spent today`
      : `online evaluation: off (flywheel agent set ${s.agent} online.enabled=true)`,
  );
  for (const r of s.runs.slice(0, 10)) {
    lines.push(
      `  ${r.windowStart} – ${r.windowEnd}: ${r.sampled} of ${r.considered} traces scored, ${r.failing} failing` +
        (r.skippedForCap > 0 ? `, ${r.skippedForCap} not judged (cap)` : '') +
        `, ${r.judgeCalls} judge calls, $${r.costUsd.toFixed(4)}`,
    );
  }
  const d = s.drift;
  if (!d.enabled) lines.push(`drift alerts: off (flywheel agent set ${s.agent} drift.enabled=true)`);
  else {
    const last = d.lastCheck as {
      tested?: boolean;
      traces?: number;
      minPValue?: number;
      alpha?: number;
    } | null;
    lines.push(
      `drift alerts: on${d.startCycleOnAlert ? ', an alert starts a cycle' : ''}; epoch since ${d.epochStart ?? '—'}` +
        (d.lastCheckAt
          ? `; last check ${d.lastCheckAt}: ${last?.tested ? `${last.traces ?? 0} traces, smallest p ${last.minPValue?.toExponential(2)} (level ${last.alpha?.toExponential(2)})` : 'reference still too short'}`
          : '; not checked yet'),
    );
  }
  for (const a of s.alerts) {
    lines.push(
      `  alert ${a.id} at ${a.at}${a.cycleId ? `, started ${a.cycleId}` : ''}, ${a.driftedTraces} drifted traces${a.notified ? '' : ' (notice not sent yet)'}`,
    );
    for (const f of a.findings) lines.push(`    ${describeFinding(f)}`);
  }
  return lines.join('\n');
}
