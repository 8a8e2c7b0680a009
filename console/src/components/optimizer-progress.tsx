import { useMemo } from 'preact/hooks';
import { useOptimizationProgress, type OptimizationProgress } from '../api/dashboard-queries.js';
import { PALETTE, type ChartSpec } from '../charts/chart-spec.js';
import { Chart } from './chart.js';
import { QueryState } from './query-state.js';

const score = (y: number) => y.toFixed(3);
const words = (s: string) => s.replace(/_/g, ' ');

/**
 * The cycle's optimizer progress: per run, the best selection score over the rollouts spent,
 * each pick of the optimizer as a point and production's score as the line to beat.
 */
export function OptimizerProgress({ cycleId, optimizing }: { cycleId: string; optimizing: boolean }) {
  const progress = useOptimizationProgress(cycleId, optimizing);
  return (
    <section aria-labelledby="optimizer-progress">
      <h2 id="optimizer-progress">Optimizer progress</h2>
      <QueryState query={progress} what="the optimizer's progress">
        {(runs) =>
          runs.length === 0 ? (
            <p>{optimizing ? 'The optimizer is starting.' : 'No optimizer has run in this cycle yet.'}</p>
          ) : (
            <>
              {runs.map((run) => (
                <RunProgress key={run.runId} run={run} />
              ))}
            </>
          )
        }
      </QueryState>
    </section>
  );
}

function RunProgress({ run }: { run: OptimizationProgress }) {
  const spec = useMemo(() => progressChart(run), [run]);
  const budget = run.maxRollouts === null ? '' : ` of ${run.maxRollouts.toLocaleString()} budgeted`;
  return (
    <>
      <p>
        <strong>{run.optimizer}</strong> · {words(run.status)} · {run.rollouts.toLocaleString()} rollouts
        {budget}
        {run.bestScore !== null && <> · best {score(run.bestScore)}</>}
        {run.baselineScore !== null && <> against production {score(run.baselineScore)}</>}
        {run.stopReason && <> · stopped: {run.stopReason}</>}
      </p>
      {spec ? (
        <Chart spec={spec} />
      ) : (
        <p class="muted">
          {run.status === 'running'
            ? 'The chart appears once the optimizer has scored the production prompt, and grows with each better prompt it finds.'
            : 'This run stored no progress.'}
        </p>
      )}
    </>
  );
}

/** Best score so far as a step line over rollouts, the optimizer's picks as points, production as a line. */
export function progressChart(run: OptimizationProgress): ChartSpec | null {
  if (run.points.length === 0) return null;
  const points = [...run.points].sort((a, b) => a.rollouts - b.rollouts);
  // One x per rollout count (two picks after the same evaluation: the later one holds).
  const byX = new Map(points.map((p) => [p.rollouts, p]));
  const xs = [...byX.keys()];
  const last = xs[xs.length - 1] ?? 0;
  // The line runs on to the rollouts spent in the end, where the best score still held.
  const end = run.rollouts > last ? run.rollouts : null;
  const values = end === null ? xs : [...xs, end];
  const at = (x: number) => byX.get(x);
  const finalBest = points[points.length - 1]!.best;
  return {
    title: `${run.optimizer}: best score over rollouts`,
    x: { label: 'Rollouts (task-model calls)', values, tick: (x) => x.toLocaleString() },
    y: { label: 'Score (selection set)', format: score },
    series: [
      {
        label: 'Best score so far',
        values: values.map((x) => at(x)?.best ?? (x === end ? finalBest : null)),
        color: PALETTE[0],
        style: 'step',
      },
      {
        label: "Optimizer's pick",
        values: values.map((x) => at(x)?.score ?? null),
        color: PALETTE[1],
        style: 'points',
      },
      ...(run.baselineScore !== null
        ? [
            {
              label: 'Production (baseline)',
              values: values.map(() => run.baselineScore),
              color: PALETTE[2],
              dash: true,
            },
          ]
        : []),
    ],
    rowHeader: 'Rollouts',
    rowLabels: values.map((x) => x.toLocaleString()),
  };
}
