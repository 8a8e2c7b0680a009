import { useMemo } from 'preact/hooks';
import { useAgentKpis, type AgentKpis, type CycleKpis } from '../api/dashboard-queries.js';
import { PALETTE, type ChartSpec } from '../charts/chart-spec.js';
import { Chart } from '../components/chart.js';
import { QueryState, Time } from '../components/query-state.js';
import { Link, navigate, paths, useLocation } from '../router.js';
import { Breadcrumbs } from '../components/breadcrumbs.js';

const CYCLE_CHOICES = [6, 12, 26, 52] as const;
const DEFAULT_CYCLES = 26;

const percent = (y: number) => `${Math.round(y * 100)}%`;
const signed = (y: number) => `${y >= 0 ? '+' : ''}${y.toFixed(3)}`;
const hours = (y: number) => `${y < 10 ? y.toFixed(1) : y.toFixed(0)} h`;
const dollars = (y: number) => `$${y < 1 ? y.toFixed(4) : y.toFixed(2)}`;
const tokens = (y: number) => (y >= 10_000 ? `${Math.round(y / 1000)}k` : y.toFixed(0));
const words = (s: string) => s.replace(/_/g, ' ');

/** Page 7: an agent's flywheel KPIs as charts over its cycles, each with its data as a table. */
export function AgentDashboardPage({ agentId }: { agentId: string }) {
  const location = useLocation();
  const asked = Number(new URLSearchParams(location.split('?')[1] ?? '').get('cycles'));
  const cycles = (CYCLE_CHOICES as readonly number[]).includes(asked) ? asked : DEFAULT_CYCLES;
  const kpis = useAgentKpis(agentId, cycles);
  return (
    <>
      <Breadcrumbs>
        <Link href={paths.home()}>Home</Link> › Agent dashboard
      </Breadcrumbs>
      <h1 tabIndex={-1}>
        Agent dashboard: <code>{agentId}</code>
      </h1>
      <p class="toolbar">
        <Link href={paths.agentConfig(agentId)}>Configuration history</Link>
        <Link href={paths.agentOnline(agentId)}>Online evaluation and drift alerts</Link>
        <Link href={paths.agentCoaching(agentId)}>Coaching</Link>
        <label class="inline">
          Cycles shown{' '}
          <select
            value={cycles}
            onChange={(e) =>
              navigate(`${paths.agent(agentId)}?cycles=${e.currentTarget.value}`, { replace: true })
            }
          >
            {CYCLE_CHOICES.map((n) => (
              <option key={n} value={n}>
                newest {n}
              </option>
            ))}
          </select>
        </label>
      </p>
      <QueryState query={kpis} what="the agent's KPIs">
        {(k) => <Dashboard kpis={k} />}
      </QueryState>
    </>
  );
}

function Dashboard({ kpis }: { kpis: AgentKpis }) {
  // The API answers newest first; charts read left to right, oldest first.
  const ordered = useMemo(() => [...kpis.perCycle].reverse(), [kpis]);
  const specs = useMemo(() => dashboardCharts(ordered), [ordered]);
  if (kpis.cycles === 0)
    return <p>No cycle of this agent yet: the charts appear after its first improvement cycle.</p>;
  return (
    <>
      <Summary kpis={kpis} />
      <section aria-labelledby="charts">
        <h2 id="charts">KPIs per cycle</h2>
        <p class="muted">
          Cycles are numbered oldest to newest (#1 is the oldest shown); every chart's data table names them.
          Online figures come from the rollout's last analysis; for a rollout without an analysis step, from
          online evaluation (the share of each version's scored traces that passed every evaluator while it
          ran). The cycle list says which.
        </p>
        <div class="charts">
          {specs.map((spec) => (
            <Chart key={spec.title} spec={spec} />
          ))}
        </div>
      </section>
      <CycleList cycles={ordered} />
    </>
  );
}

function Summary({ kpis: k }: { kpis: AgentKpis }) {
  const or = (x: number | null, f: (y: number) => string) => (x === null ? '—' : f(x));
  return (
    <section aria-labelledby="summary">
      <h2 id="summary">Summary</h2>
      <dl class="facts">
        <dt>Cycles</dt>
        <dd>
          {k.cycles}: {k.releases} released, {k.rollbacks} rolled back
        </dd>
        <dt>Canary success rate</dt>
        <dd>{or(k.canarySuccessRate, percent)} of finished rollouts promoted</dd>
        <dt>Mean lift</dt>
        <dd>
          {or(k.meanGateDelta, signed)} at the gate, {or(k.meanOnlineDelta, signed)} online
        </dd>
        <dt>Median loop time</dt>
        <dd>{or(k.medianLoopHours, hours)} from the oldest sampled trace to production</dd>
        <dt>Mean queue drain</dt>
        <dd>{or(k.meanAnnotationDrained, percent)} of annotation items complete</dd>
        <dt>Mean judge agreement</dt>
        <dd>Cohen's κ {or(k.meanJudgeKappa, (y) => y.toFixed(2))}</dd>
        <dt>Mean cost per cycle</dt>
        <dd>
          {k.meanCostPerCycle
            ? `${dollars(k.meanCostPerCycle.judgeCostUsd)} judge, ${Math.round(k.meanCostPerCycle.optimizerTokens).toLocaleString()} optimizer tokens, ${k.meanCostPerCycle.teacherCalls.toFixed(1)} teacher calls`
            : '—'}
        </dd>
      </dl>
    </section>
  );
}

/** The seven KPI charts over cycles, oldest first. */
export function dashboardCharts(cycles: readonly CycleKpis[]): ChartSpec[] {
  const x = {
    label: 'Cycle (oldest to newest)',
    values: cycles.map((_, i) => i + 1),
    tick: (n: number) => `#${n}`,
  };
  const rows = {
    rowHeader: 'Cycle',
    rowLabels: cycles.map((c, i) => `#${i + 1} ${c.cycleId} (${c.startedAt.slice(0, 10)})`),
  };
  const series = (
    label: string,
    values: (number | null)[],
    i: number,
    more: Partial<ChartSpec['series'][number]> = {},
  ) => ({
    label,
    values,
    color: PALETTE[i % PALETTE.length]!,
    ...more,
  });
  return [
    {
      title: 'Measured success per cycle',
      x,
      y: { label: 'Success (score or rate)', min: 0, max: 1, format: (y) => y.toFixed(2) },
      series: [
        series(
          'Production at the gate',
          cycles.map((c) => c.success.gateProduction),
          0,
        ),
        series(
          'Candidate at the gate',
          cycles.map((c) => c.success.gateCandidate),
          1,
        ),
        series(
          'Production online',
          cycles.map((c) => c.success.onlineProduction),
          2,
          { dash: true },
        ),
        series(
          'Candidate online',
          cycles.map((c) => c.success.onlineCandidate),
          3,
          { dash: true },
        ),
      ],
      ...rows,
    },
    {
      title: 'Lift per cycle (candidate − production)',
      x,
      y: { label: 'Lift', format: signed },
      series: [
        series(
          'Gate lift (eval split)',
          cycles.map((c) => c.lift.gateDelta),
          0,
        ),
        series(
          'Online lift (success rate)',
          cycles.map((c) => c.lift.onlineDelta),
          1,
          { dash: true },
        ),
      ],
      ...rows,
    },
    {
      title: 'Loop time: oldest sampled trace to production',
      x,
      y: { label: 'Hours', format: hours },
      series: [
        series(
          'Loop time',
          cycles.map((c) => c.loopHours),
          0,
        ),
      ],
      ...rows,
    },
    {
      title: 'Annotation queue drain',
      x,
      y: { label: 'Items complete', min: 0, max: 1, format: percent },
      yRight: { label: 'Hours to quorum', format: hours },
      series: [
        series(
          'Share of items complete',
          cycles.map((c) => c.annotation?.drained ?? null),
          0,
        ),
        series(
          'Hours to quorum',
          cycles.map((c) => c.annotation?.hoursToQuorum ?? null),
          1,
          {
            axis: 'right',
            dash: true,
          },
        ),
      ],
      ...rows,
    },
    {
      title: 'Canary success rate (finished rollouts promoted, to date)',
      x,
      y: { label: 'Promoted', min: 0, max: 1, format: percent },
      series: [
        series(
          'Canary success rate',
          cycles.map((c) => c.canarySuccessRateToDate),
          2,
        ),
      ],
      ...rows,
    },
    {
      title: 'Judge agreement with reviewers',
      x,
      y: { label: "Cohen's κ / accuracy", format: (y) => y.toFixed(2) },
      series: [
        series(
          "Cohen's κ (mean over dimensions)",
          cycles.map((c) => c.judgeAgreement?.kappa ?? null),
          0,
        ),
        series(
          'Accuracy (mean over dimensions)',
          cycles.map((c) => c.judgeAgreement?.accuracy ?? null),
          1,
          {
            dash: true,
          },
        ),
      ],
      ...rows,
    },
    {
      title: 'Cost per cycle',
      x,
      y: { label: 'Judge cost (USD)', format: dollars },
      yRight: { label: 'Optimizer tokens', format: tokens },
      series: [
        series(
          'Judge cost',
          cycles.map((c) => c.cost.judgeCostUsd),
          0,
        ),
        series(
          'Optimizer tokens',
          cycles.map((c) => c.cost.optimizerTokens),
          1,
          { axis: 'right', dash: true },
        ),
      ],
      ...rows,
    },
  ];
}

function CycleList({ cycles }: { cycles: readonly CycleKpis[] }) {
  return (
    <section aria-labelledby="cycles">
      <h2 id="cycles">Cycles</h2>
      <table>
        <thead>
          <tr>
            <th scope="col">#</th>
            <th scope="col">Cycle</th>
            <th scope="col">Started</th>
            <th scope="col">Outcome</th>
            <th scope="col">Rollout</th>
            <th scope="col">Online figures from</th>
          </tr>
        </thead>
        <tbody>
          {cycles.map((c, i) => (
            <tr key={c.cycleId}>
              <td>{i + 1}</td>
              <td>
                <Link href={paths.cycle(c.cycleId)}>
                  <code>{c.cycleId}</code>
                </Link>
              </td>
              <td>
                <Time iso={c.startedAt} />
              </td>
              <td>{words(c.outcome)}</td>
              <td>{c.rollout ? words(c.rollout) : '—'}</td>
              <td>{c.onlineFrom ? words(c.onlineFrom) : '—'}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
