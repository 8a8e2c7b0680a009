import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { formatterOf, type ChartSpec } from './chart-spec.js';

/**
 * Draws a ChartSpec with uPlot (canvas). Loaded with `import()` by the Chart component, so
 * uPlot and its CSS are a chunk of their own that pages without charts never download.
 */
export function renderChart(target: HTMLElement, spec: ChartSpec, width: number): uPlot {
  const tick = spec.x.tick ?? String;
  const xs = spec.x.values;
  const axisFont = '12px system-ui, sans-serif';
  const labelFont = 'bold 12px system-ui, sans-serif';
  const opts: uPlot.Options = {
    width,
    height: 240,
    // The title is the figure's caption (HTML), not drawn on the canvas.
    scales: {
      x: { time: false },
      y: {
        auto: spec.y.min === undefined || spec.y.max === undefined,
        ...(spec.y.min !== undefined && spec.y.max !== undefined ? { range: [spec.y.min, spec.y.max] } : {}),
      },
      ...(spec.yRight ? { y2: { auto: true } } : {}),
    },
    axes: [
      {
        label: spec.x.label,
        font: axisFont,
        labelFont,
        stroke: '#1b1f24',
        // Only ticks at the x values themselves (cycles are whole steps, not a continuum).
        splits: (u) => {
          const [min, max] = [u.scales.x?.min ?? -Infinity, u.scales.x?.max ?? Infinity];
          const inside = xs.filter((x) => x >= min && x <= max);
          const step = Math.max(1, Math.ceil(inside.length / Math.max(1, Math.floor(width / 90))));
          return inside.filter((_, i) => i % step === 0);
        },
        values: (_u, splits) => splits.map((x) => tick(x)),
      },
      {
        label: spec.y.label,
        font: axisFont,
        labelFont,
        stroke: '#1b1f24',
        size: 60,
        values: (_u, splits) => splits.map((y) => (spec.y.format ?? String)(y)),
      },
      ...(spec.yRight
        ? [
            {
              scale: 'y2',
              side: 1,
              label: spec.yRight.label,
              font: axisFont,
              labelFont,
              stroke: '#1b1f24',
              size: 70,
              grid: { show: false },
              values: (_u: uPlot, splits: number[]) => splits.map((y) => (spec.yRight?.format ?? String)(y)),
            } satisfies uPlot.Axis,
          ]
        : []),
    ],
    legend: { show: true, live: true },
    cursor: { drag: { x: false, y: false } },
    series: [
      { label: spec.x.label, value: (_u, x) => (x === null ? '—' : tick(x)) },
      ...spec.series.map((s): uPlot.Series => ({
        label: s.label,
        stroke: s.color,
        width: 2,
        scale: s.axis === 'right' ? 'y2' : 'y',
        spanGaps: true,
        ...(s.dash ? { dash: [6, 4] } : {}),
        ...(s.style === 'step' ? { paths: uPlot.paths.stepped?.({ align: 1 }) } : {}),
        ...(s.style === 'points' ? { paths: () => null } : {}),
        points: { show: true, size: s.style === 'points' ? 7 : 5, fill: s.color },
        value: (_u, y) => (y === null ? '—' : formatterOf(spec, s)(y)),
      })),
    ],
  };
  return new uPlot(opts, [xs, ...spec.series.map((s) => s.values)] as uPlot.AlignedData, target);
}
