import { useEffect, useId, useRef, useState } from 'preact/hooks';
import { formatterOf, summarise, type ChartSpec } from '../charts/chart-spec.js';
import type * as UplotRender from '../charts/uplot-render.js';
import './chart.css';

/** uPlot, fetched once on the first chart: the first page never downloads it. */
let renderer: Promise<typeof UplotRender> | null = null;
const loadRenderer = () => (renderer ??= import('../charts/uplot-render.js'));

/**
 * A chart as a figure: its title as the caption, a one-line text summary, the canvas (hidden
 * from screen readers, which read the summary and the table instead) and the data as a table
 * under a disclosure, so every figure on it can be read without seeing the picture.
 */
export function Chart({ spec }: { spec: ChartSpec }) {
  const id = useId();
  const canvas = useRef<HTMLDivElement>(null);
  const [state, setState] = useState<'loading' | 'drawn' | 'failed'>('loading');

  useEffect(() => {
    const target = canvas.current;
    if (!target) return;
    let plot: { destroy(): void; setSize(size: { width: number; height: number }): void } | null = null;
    let cancelled = false;
    const width = () => Math.max(280, Math.floor(target.clientWidth));
    const resize = new ResizeObserver(() => plot?.setSize({ width: width(), height: 240 }));
    loadRenderer()
      .then(({ renderChart }) => {
        if (cancelled) return;
        plot = renderChart(target, spec, width());
        resize.observe(target);
        setState('drawn');
      })
      .catch(() => {
        // A failed chunk (e.g. a deploy replaced the assets) may load on the next chart.
        renderer = null;
        if (!cancelled) setState('failed');
      });
    return () => {
      cancelled = true;
      resize.disconnect();
      plot?.destroy();
    };
  }, [spec]);

  const tick = spec.x.tick ?? String;
  return (
    <figure class="chart" aria-labelledby={`${id}-title`} aria-describedby={`${id}-summary`}>
      <figcaption id={`${id}-title`}>{spec.title}</figcaption>
      <p id={`${id}-summary`} class="chart-summary">
        {summarise(spec)}
      </p>
      <div
        ref={canvas}
        class="chart-canvas"
        aria-hidden="true"
        data-chart-state={state}
        data-series={spec.series.length}
      />
      {state === 'failed' && <p class="error">The chart could not be drawn; the table below has its data.</p>}
      <details class="chart-data">
        <summary>Data table: {spec.title}</summary>
        <table>
          <caption class="visually-hidden">{spec.title}</caption>
          <thead>
            <tr>
              <th scope="col">{spec.rowHeader ?? spec.x.label}</th>
              {spec.series.map((s) => (
                <th scope="col" key={s.label}>
                  {s.label}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {spec.x.values.map((x, i) => (
              <tr key={x}>
                <th scope="row">{spec.rowLabels?.[i] ?? tick(x)}</th>
                {spec.series.map((s) => {
                  const v = s.values[i] ?? null;
                  return (
                    <td key={s.label} data-value={v === null ? '' : String(v)}>
                      {v === null ? '—' : formatterOf(spec, s)(v)}
                    </td>
                  );
                })}
              </tr>
            ))}
          </tbody>
        </table>
      </details>
    </figure>
  );
}
