import type { Coaching, CoachingEffect, CoachingMarkResult } from './coaching-queries.js';
import { searchOf } from './trace-filters.js';

/** How the coaching pages word a coaching's parts and figures; pure, so unit tests read it too. */

type Behaviour = Coaching['behaviour'];
type Comparison = CoachingEffect['success']['feedback'];
type Rate = Comparison['with'];

const clip = (text: string, max: number) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

/** The behaviour in one line: what the agent should do in the situation. */
export function behaviourSummary(b: Behaviour, max = 140): string {
  switch (b.kind) {
    case 'reply':
      return `Reply: “${clip(b.text, max)}”`;
    case 'ask_confirmation':
      return `Ask for confirmation: “${clip(b.text, max)}”`;
    case 'transfer':
      return `Transfer to a human: ${clip(b.reason, max)}`;
    case 'tool_call':
      return `Call ${b.tool}(${clip(JSON.stringify(b.arguments ?? {}), max)})`;
  }
}

/** The recall threshold, and the author's when reviewers' marks moved it. */
export function thresholdText(c: Pick<Coaching, 'threshold' | 'authorThreshold'>): string {
  return c.threshold === c.authorThreshold
    ? String(c.threshold)
    : `${c.threshold} (author’s ${c.authorThreshold}, moved by marks)`;
}

const percent = (x: number) => `${Math.round(x * 100)}%`;
const points = (x: number) => `${x >= 0 ? '+' : '−'}${Math.round(Math.abs(x) * 100)} pts`;

/** A success rate with its 95% interval, or why there is none. */
export function rateText(r: Rate): string {
  if (r.rate === null || r.interval === null) return 'no trace with this signal';
  const [lo = 0, hi = 0] = r.interval;
  return `${percent(r.rate)} (${r.successes} of ${r.traces}; 95% interval ${percent(lo)}–${percent(hi)})`;
}

/** With minus without, with its 95% interval, or why there is none. */
export function differenceText(c: Comparison): string {
  if (c.difference === null || c.interval === null) return 'not measured (a side has no trace)';
  const [lo = 0, hi = 0] = c.interval;
  return `${points(c.difference)} (95% interval ${points(lo)} to ${points(hi)})`;
}

/** What a mark did to the threshold, in a sentence. */
export function markOutcome(result: CoachingMarkResult): string {
  const verdict = result.mark.verdict === 'correct' ? 'correctly applied' : 'wrongly applied';
  const { before, after, changed } = result.threshold;
  return changed
    ? `Marked trace ${result.mark.traceId} ${verdict}. Threshold ${before} → ${after} (now version ${result.coaching.version}).`
    : `Marked trace ${result.mark.traceId} ${verdict}. Threshold stays ${before}.`;
}

/** The trace list's query string for the traces of `agent` that applied coaching `id`. */
export const appliedTracesSearch = (agent: string, id: string) => searchOf({ agent, coaching: id });

/** The id of a trace page's element for step `step` (the transcript carries it). */
export const stepAnchor = (step: number) => `step-${step}`;

/** The step a trace page's address points at (`#step-3`), or null. */
export function stepOfHash(hash: string): number | null {
  const m = /^#step-(\d{1,6})$/.exec(hash);
  return m ? Number(m[1]) : null;
}

/**
 * The coaching a trace applied, from its `flywheel.coaching.ids` attribute (`id@version` each,
 * a list or one string), in the order it lists them.
 */
export function appliedCoaching(attributes: Record<string, unknown>): { tag: string; id: string }[] {
  const raw = attributes['flywheel.coaching.ids'];
  const values = Array.isArray(raw) ? raw : typeof raw === 'string' ? [raw] : [];
  return values
    .filter((v): v is string => typeof v === 'string' && v.trim().lastIndexOf('@') > 0)
    .map((v) => ({ tag: v.trim(), id: v.trim().slice(0, v.trim().lastIndexOf('@')) }));
}
