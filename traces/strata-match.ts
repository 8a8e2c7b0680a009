import {
  parsePredicate,
  type PREDICATE_COLUMNS,
  type Predicate,
  type Stratum,
} from '../schemas/sampling-policy.js';
import type { TraceRecord } from '../schemas/trace.js';

/** The columns a predicate may name, read from a normalized trace; the rest are attributes. */
const COLUMNS: Record<(typeof PREDICATE_COLUMNS)[number], (t: TraceRecord) => unknown> = {
  latency_ms: (t) => t.latencyMs,
  cost_usd: (t) => t.costUsd,
  reward: (t) => t.reward,
  input_tokens: (t) => t.usage?.inputTokens,
  output_tokens: (t) => t.usage?.outputTokens,
  model: (t) => t.model,
  status: (t) => t.status,
  outcome: (t) => t.outcome,
  prompt_version: (t) => t.promptVersion,
  feedback: (t) => t.feedback?.score,
};

function columnValue(trace: TraceRecord, field: string): unknown {
  return Object.hasOwn(COLUMNS, field)
    ? COLUMNS[field as keyof typeof COLUMNS](trace)
    : trace.attributes[field];
}

function asNumber(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'string' && /^-?\d+(\.\d+)?$/.test(value)) return Number(value);
  return undefined;
}

/** One comparison, with SQL's missing-is-false semantics: an absent field never matches. */
export function predicateHolds(p: Predicate, trace: TraceRecord): boolean {
  const value = columnValue(trace, p.field);
  if (value === undefined || value === null) return false;
  if (p.op === 'contains') {
    const text = typeof value === 'string' ? value : JSON.stringify(value);
    return text.toLowerCase().includes(String(p.value).toLowerCase());
  }
  if (typeof p.value === 'number') {
    const n = asNumber(value);
    if (n === undefined) return false;
    switch (p.op) {
      case '>':
        return n > p.value;
      case '>=':
        return n >= p.value;
      case '<':
        return n < p.value;
      case '<=':
        return n <= p.value;
      case '=':
        return n === p.value;
      case '!=':
        return n !== p.value;
    }
  }
  const same =
    typeof p.value === 'boolean'
      ? value === p.value
      : (typeof value === 'string' ? value : JSON.stringify(value)) === String(p.value);
  return p.op === '!=' ? !same : p.op === '=' && same;
}

/**
 * The configured custom strata a trace falls in. Evaluated when a trace is written and
 * when feedback changes it, and stored with the trace, so the weekly sample finds them
 * through an index instead of evaluating predicates over millions of rows.
 */
export function matchCustomStrata(trace: TraceRecord, strata: readonly Stratum[]): string[] {
  return strata
    .filter((s) => s.where.split(/\s+and\s+/i).every((part) => predicateHolds(parsePredicate(part), trace)))
    .map((s) => s.name);
}
