import type { Span } from '../schemas/trace.js';
import { isoToNanos } from './otlp-time.js';

/**
 * The one order of a trace's spans that every reader shows: by start time to the
 * nanosecond, then a parent before its children (a child often starts within the same
 * instant as its parent), then by span id so that the order never depends on arrival.
 */
export function orderSpans<T extends Pick<Span, 'spanId' | 'parentSpanId' | 'startTime'>>(
  spans: readonly T[],
): T[] {
  const byId = new Map(spans.map((s) => [s.spanId, s]));
  const depth = new Map<string, number>();
  const depthOf = (span: T): number => {
    const known = depth.get(span.spanId);
    if (known !== undefined) return known;
    // Walk up without recursion; a parent cycle (bad input) stops where it repeats.
    const chain: T[] = [];
    const seen = new Set<string>();
    let current: T | undefined = span;
    let base = 0;
    while (current !== undefined && !seen.has(current.spanId)) {
      const cached = depth.get(current.spanId);
      if (cached !== undefined) {
        base = cached + 1;
        break;
      }
      seen.add(current.spanId);
      chain.push(current);
      current = current.parentSpanId === null ? undefined : byId.get(current.parentSpanId);
    }
    for (let i = chain.length - 1; i >= 0; i--) depth.set(chain[i]!.spanId, base + (chain.length - 1 - i));
    return depth.get(span.spanId)!;
  };
  const keyed = spans.map((span) => ({ span, start: isoToNanos(span.startTime), depth: depthOf(span) }));
  keyed.sort((a, b) => {
    if (a.start !== b.start) return a.start < b.start ? -1 : 1;
    if (a.depth !== b.depth) return a.depth - b.depth;
    return a.span.spanId < b.span.spanId ? -1 : a.span.spanId > b.span.spanId ? 1 : 0;
  });
  return keyed.map((k) => k.span);
}
