/**
 * What a chart draws, independent of the library that draws it: the page builds a spec from
 * API data, the lazily loaded renderer (uplot-render.ts) turns it into a canvas, and the same
 * spec renders the data table and the text summary that screen readers get.
 */
export interface SeriesSpec {
  label: string;
  /** One value per x; null is a gap (the figure was not measured for that x). */
  values: (number | null)[];
  color: string;
  /** `step`: the value holds until the next x (a best-so-far line). */
  style?: 'line' | 'step' | 'points';
  dash?: boolean;
  /** Which y axis the series is read on; `right` needs `yRight` on the chart. */
  axis?: 'left' | 'right';
}

export interface ChartSpec {
  title: string;
  x: { label: string; values: number[]; tick?: (x: number) => string };
  y: { label: string; min?: number; max?: number; format?: (y: number) => string };
  yRight?: { label: string; format?: (y: number) => string };
  series: SeriesSpec[];
  /** Rows of the data table: one label per x (e.g. the cycle ID), in x order. */
  rowLabels?: string[];
  rowHeader?: string;
}

/** Colours with at least 3:1 contrast against white (WCAG non-text contrast). */
export const PALETTE = ['#0a58ca', '#b35c00', '#115c2a', '#8e24aa', '#a01d17', '#27384d'] as const;

const plain = (y: number) =>
  Math.abs(y) >= 100 ? y.toFixed(0) : Math.abs(y) >= 1 ? y.toFixed(2) : y.toFixed(3);

export const formatterOf = (spec: ChartSpec, s: SeriesSpec) =>
  (s.axis === 'right' ? spec.yRight?.format : spec.y.format) ?? plain;

/** One sentence per series: how many points, first and last values, lowest and highest. */
export function summarise(spec: ChartSpec): string {
  const tick = spec.x.tick ?? String;
  const parts = spec.series.map((s) => {
    const f = formatterOf(spec, s);
    const points = s.values
      .map((v, i) => ({ v, x: spec.x.values[i] }))
      .filter((p): p is { v: number; x: number } => p.v !== null && p.x !== undefined);
    if (points.length === 0) return `${s.label}: not measured.`;
    const first = points[0]!;
    const last = points[points.length - 1]!;
    if (points.length === 1) return `${s.label}: ${f(first.v)} at ${tick(first.x)}.`;
    const values = points.map((p) => p.v);
    return (
      `${s.label}: ${points.length} points, from ${f(first.v)} at ${tick(first.x)} to ${f(last.v)} at ${tick(last.x)}` +
      ` (lowest ${f(Math.min(...values))}, highest ${f(Math.max(...values))}).`
    );
  });
  return parts.join(' ');
}
