import { useRollout, useRolloutSteps } from '../api/release-queries.js';
import type { MetricMeasurement, RolloutState, RolloutStep } from '../api/release-types.js';
import { QueryState, Time } from '../components/query-state.js';
import { RolloutControls } from '../components/rollout-controls.js';
import { Link, paths } from '../router.js';
import { holds, useMe } from '../session.js';
import { Breadcrumbs } from '../components/breadcrumbs.js';

const words = (s: string) => s.replace(/_/g, ' ');
const rate = (x: number | null | undefined) => (x === null || x === undefined ? '—' : x.toFixed(3));
const tone = (verdict: string) =>
  verdict === 'successful' || verdict === 'completed'
    ? 'good'
    : verdict === 'failed' || verdict === 'rolled_back'
      ? 'bad'
      : 'neutral';

/** A staged rollout as it runs: its steps, the candidate's weight, what each analysis measured. */
export function RolloutPage({ rolloutId }: { rolloutId: string }) {
  const state = useRollout(rolloutId);
  const cycleId = rolloutId.endsWith('-rollout') ? rolloutId.slice(0, -'-rollout'.length) : null;
  return (
    <>
      <Breadcrumbs>
        <Link href={paths.home()}>Home</Link>
        {cycleId?.startsWith('cycle-') && (
          <>
            {' '}
            › <Link href={paths.cycle(cycleId)}>Cycle {cycleId}</Link>
          </>
        )}{' '}
        › Rollout
      </Breadcrumbs>
      <h1 tabIndex={-1}>
        Rollout <code>{rolloutId}</code>
      </h1>
      <QueryState query={state} what="the rollout">
        {(s) => <RolloutDetails state={s} />}
      </QueryState>
    </>
  );
}

function RolloutDetails({ state }: { state: RolloutState }) {
  const me = useMe();
  const live = state.phase === 'progressing' || state.phase === 'paused';
  const results = useRolloutSteps(state.rolloutId, live);
  return (
    <>
      <section aria-labelledby="now">
        <h2 id="now">Now</h2>
        {/* Polled: announced when the phase or weight changes. */}
        <p aria-live="polite">
          <span class={`badge ${tone(state.phase)}`}>{words(state.phase)}</span> · candidate weight{' '}
          <strong class="weight">{state.weight}%</strong>
          {state.phase === 'paused' && state.pausedReason && <> · {state.pausedReason}</>}
          {state.reason && <> · {state.reason}</>}
        </p>
        <meter min={0} max={100} value={state.weight} aria-label="Candidate traffic share">
          {state.weight}%
        </meter>
        {state.lastResult && <p>Last result: {state.lastResult}</p>}
      </section>
      <section aria-labelledby="steps">
        <h2 id="steps">Steps</h2>
        <ol class="timeline">
          {state.steps.map((step, i) => {
            const where =
              i < state.stepIndex || state.phase === 'completed'
                ? 'done'
                : i === state.stepIndex && live
                  ? 'current'
                  : i === state.stepIndex && state.phase === 'rolled_back'
                    ? 'stopped'
                    : 'pending';
            return (
              <li key={i} class={where} aria-current={where === 'current' ? 'step' : undefined}>
                <span class="stage-name">{step}</span>{' '}
                <span class="muted">
                  {
                    {
                      current: 'current step',
                      done: 'done',
                      stopped: 'rolled back here',
                      pending: 'not reached',
                    }[where]
                  }
                </span>
              </li>
            );
          })}
        </ol>
      </section>
      {holds(me.grants, 'operator', state.agent) && live && <RolloutControls state={state} />}
      <section aria-labelledby="analyses">
        <h2 id="analyses">Analyses and measurements</h2>
        <QueryState query={results} what="the rollout's measurements">
          {(steps) =>
            steps.length === 0 ? (
              <p>Nothing measured yet.</p>
            ) : (
              steps.map((step) => (
                <StepResult
                  key={`${step.stepIndex}/${step.round}`}
                  step={step}
                  label={state.steps[step.stepIndex]}
                />
              ))
            )
          }
        </QueryState>
      </section>
    </>
  );
}

function StepResult({ step, label }: { step: RolloutStep; label: string | undefined }) {
  const heading = `Step ${step.stepIndex + 1} (${label ?? step.kind}), round ${step.round + 1}`;
  const result = step.result;
  return (
    <article class="measurement" aria-label={heading}>
      <h3>
        {heading} <span class={`badge ${tone(step.verdict)}`}>{step.verdict}</span>
      </h3>
      <p>
        At {step.weight}% · <Time iso={step.measuredAt} /> · {result.reason}
      </p>
      {'metrics' in result ? (
        <table>
          <caption>
            {result.candidateSamples} candidate and {result.baselineSamples} production traces
          </caption>
          <thead>
            <tr>
              <th scope="col">Metric</th>
              <th scope="col">Candidate</th>
              <th scope="col">Production</th>
              <th scope="col">Decision</th>
              <th scope="col">Why</th>
            </tr>
          </thead>
          <tbody>
            {result.metrics.map((m: MetricMeasurement) => (
              <tr key={m.name}>
                <th scope="row">{words(m.name)}</th>
                <td>{rate(m.candidate)}</td>
                <td>{rate(m.baseline)}</td>
                <td>
                  <span class={`badge ${tone(m.phase)}`}>{m.phase}</span>
                </td>
                <td>{m.reason}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        <p>
          {result.traces} traces answered by both: candidate pass rate {rate(result.candidatePassRate)},
          production {rate(result.baselinePassRate)}.
        </p>
      )}
    </article>
  );
}
