import type { CoachingEffect } from './coaching-effect-service.js';
import type { RateComparison, SuccessRate } from './coaching-effect.js';

/** `flywheel coaching effect` as text: what a reviewer reads before trusting or marking a coaching. */

const pct = (x: number) => `${Math.round(x * 100)}%`;

function rate(r: SuccessRate): string {
  if (r.rate === null || r.interval === null) return 'no traces';
  return `${pct(r.rate)} (${r.successes}/${r.traces}; 95% ${pct(r.interval[0])}-${pct(r.interval[1])})`;
}

function comparison(name: string, c: RateComparison): string {
  const diff =
    c.difference === null || c.interval === null
      ? ''
      : `  difference ${c.difference >= 0 ? '+' : ''}${Math.round(c.difference * 100)} points (95% ${Math.round(c.interval[0] * 100)} to ${Math.round(c.interval[1] * 100)})`;
  return `${name.padEnd(13)} with ${rate(c.with)}  without ${rate(c.without)}${diff}`;
}

export function renderCoachingEffect(e: CoachingEffect): string {
  const c = e.coaching;
  const out = [
    `${c.id}  v${c.version}  ${c.status}  threshold ${c.threshold}${c.threshold === c.authorThreshold ? '' : ` (author's ${c.authorThreshold})`}  ${c.situation}`,
    `last ${e.window.days} days: applied in ${e.applied.traces}${e.applied.capped ? '+' : ''} trace(s); ${e.baseline.similar} similar trace(s) without it (of ${e.baseline.scanned}${e.baseline.capped ? ', the newest only' : ''} scanned)`,
    comparison('feedback', e.success.feedback),
    comparison('online judge', e.success.onlineJudge),
    `marks: ${e.marks.correct} correctly applied, ${e.marks.wrong} wrongly applied`,
  ];
  if (e.thresholds.length > 1) {
    out.push('thresholds:');
    for (const t of e.thresholds) out.push(`  v${t.version}  ${t.threshold}  ${t.createdBy}  ${t.reason}`);
  }
  if (e.applied.shown.length > 0) {
    out.push('applied in:');
    for (const a of e.applied.shown) {
      const feedback =
        a.feedback === null ? '' : `  feedback ${a.feedback > 0 ? '+1' : a.feedback < 0 ? '-1' : '0'}`;
      const judge = a.onlineJudge === null ? '' : `  judge ${a.onlineJudge}`;
      const marks = a.marks.map((m) => `  ${m.verdict} (${m.reviewer})`).join('');
      out.push(
        `  ${a.traceId}  ${a.startedAt}  v${a.versions.join(',v')} at step ${a.step}${feedback}${judge}${marks}`,
      );
    }
  }
  return out.join('\n');
}
