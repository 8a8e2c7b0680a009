import type { Span } from '../schemas/trace.js';
import { isoToNanos, nanosDiffMs } from './otlp-time.js';

/** A span placed in its trace: children nested, times relative to the trace's first span. */
export type SpanTreeNode = Span & {
  /** Milliseconds from the earliest span start of the trace to this span's start. */
  offsetMs: number;
  durationMs: number;
  depth: number;
  /**
   * The span names a parent the trace does not hold (not arrived yet, or dropped), or sits
   * on a parent loop: it is shown as a root rather than hidden.
   */
  orphan?: true;
  children: SpanTreeNode[];
};

export interface SpanTree {
  roots: SpanTreeNode[];
  /** The earliest span start; undefined when the trace has no spans. */
  startTime?: string;
  /** From the earliest start to the latest end. */
  durationMs: number;
  spanCount: number;
}

const nanosOf = (iso: string): bigint | undefined => {
  try {
    return isoToNanos(iso);
  } catch {
    return undefined;
  }
};

/**
 * Nests spans under their parents. Siblings are ordered by exact (nanosecond) start, then by
 * the order they were stored in, so two spans that start within one millisecond keep their
 * order. A repeated span id resolves to its first copy as a parent.
 */
export function buildSpanTree(spans: readonly Span[]): SpanTree {
  const starts = spans.map((s) => nanosOf(s.startTime));
  const ends = spans.map((s) => nanosOf(s.endTime));
  const known = starts.filter((n): n is bigint => n !== undefined);
  const origin = known.length > 0 ? known.reduce((a, b) => (b < a ? b : a)) : undefined;
  const lastEnd = ends
    .filter((n): n is bigint => n !== undefined)
    .reduce<bigint | undefined>((a, b) => (a === undefined || b > a ? b : a), undefined);

  const indexById = new Map<string, number>();
  spans.forEach((s, i) => {
    if (!indexById.has(s.spanId)) indexById.set(s.spanId, i);
  });
  const childrenOf = new Map<number, number[]>();
  const roots: number[] = [];
  const orphans = new Set<number>();
  spans.forEach((s, i) => {
    const parent = s.parentSpanId === null ? undefined : indexById.get(s.parentSpanId);
    if (parent === undefined || parent === i) {
      roots.push(i);
      if (s.parentSpanId !== null) orphans.add(i);
    } else childrenOf.set(parent, [...(childrenOf.get(parent) ?? []), i]);
  });

  const byStart = (a: number, b: number) => {
    const x = starts[a];
    const y = starts[b];
    if (x !== undefined && y !== undefined && x !== y) return x < y ? -1 : 1;
    return a - b;
  };
  const placed = new Set<number>();
  const node = (i: number, depth: number, orphan: boolean): SpanTreeNode => {
    placed.add(i);
    const span = spans[i]!;
    const start = starts[i];
    const end = ends[i];
    const children = (childrenOf.get(i) ?? [])
      .filter((c) => !placed.has(c))
      .sort(byStart)
      .map((c) => node(c, depth + 1, false));
    return {
      ...span,
      offsetMs: start !== undefined && origin !== undefined ? nanosDiffMs(origin, start) : 0,
      durationMs:
        start !== undefined && end !== undefined && end >= start ? nanosDiffMs(start, end) : span.latencyMs,
      depth,
      ...(orphan ? { orphan: true as const } : {}),
      children,
    };
  };
  const tree = roots.sort(byStart).map((i) => node(i, 0, orphans.has(i)));
  // Spans on a parent loop (a → b → a) are reachable from no root: show each loop from its
  // earliest span so nothing the trace holds is hidden.
  const unplaced = spans.map((_, i) => i).filter((i) => !placed.has(i));
  for (const i of unplaced.sort(byStart)) if (!placed.has(i)) tree.push(node(i, 0, true));

  return {
    roots: tree,
    ...(origin !== undefined ? { startTime: spans[starts.indexOf(origin)]!.startTime } : {}),
    durationMs:
      origin !== undefined && lastEnd !== undefined && lastEnd >= origin ? nanosDiffMs(origin, lastEnd) : 0,
    spanCount: spans.length,
  };
}

/** The tree in display order (depth first), for renderers that print one line per span. */
export function flattenSpanTree(roots: readonly SpanTreeNode[]): SpanTreeNode[] {
  const out: SpanTreeNode[] = [];
  const walk = (n: SpanTreeNode) => {
    out.push(n);
    n.children.forEach(walk);
  };
  roots.forEach(walk);
  return out;
}
