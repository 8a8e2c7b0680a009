import { useState } from 'preact/hooks';
import { capShare, findingValue, findingWhat, onlinePassRate } from '../api/online-figures.js';
import { useDriftAlert, useOnlineEvaluation, type OnlineEvaluationStatus } from '../api/online-queries.js';
import { QueryState, Time } from '../components/query-state.js';
import { Link, paths } from '../router.js';
import { Breadcrumbs } from '../components/breadcrumbs.js';

const dollars = (y: number) => `$${y < 1 ? y.toFixed(4) : y.toFixed(2)}`;
const percent = (y: number) => `${(y * 100).toFixed(1)}%`;

/**
 * An agent's online evaluation: what live traffic scored today against the cost cap, the
 * latest runs and their pass rate, and the drift check with each alert's evidence (slice,
 * before and after, the traces that show it, linked to their pages).
 */
export function OnlineEvaluationPage({ agentId }: { agentId: string }) {
  const status = useOnlineEvaluation(agentId);
  return (
    <>
      <Breadcrumbs>
        <Link href={paths.home()}>Home</Link> › <Link href={paths.agent(agentId)}>Agent dashboard</Link> ›
        Online evaluation
      </Breadcrumbs>
      <h1 tabIndex={-1}>
        Online evaluation: <code>{agentId}</code>
      </h1>
      <QueryState query={status} what="online evaluation">
        {(s) => <OnlineView status={s} />}
      </QueryState>
    </>
  );
}

function OnlineView({ status: s }: { status: OnlineEvaluationStatus }) {
  const pass = onlinePassRate(s.runs);
  const share = capShare(s.online.spentTodayUsd, s.online.dailyCostCapUsd);
  return (
    <>
      <section aria-labelledby="online-summary">
        <h2 id="online-summary">Live traffic</h2>
        {!s.online.enabled && (
          <p class="notice">
            Online evaluation is off for {s.agent}: turn it on with{' '}
            <code>flywheel agent set {s.agent} online.enabled=true</code>.
          </p>
        )}
        <dl class="facts">
          <dt>Share of traces scored</dt>
          <dd>{s.online.enabled ? `${Math.round(s.online.sampleShare * 100)}%` : 'none (off)'}</dd>
          <dt id="spend-label">Spent today (UTC)</dt>
          <dd>
            {dollars(s.online.spentTodayUsd)} of the {dollars(s.online.dailyCostCapUsd)} daily cap
            {share !== null && (
              <>
                {' '}
                <meter
                  aria-labelledby="spend-label"
                  min={0}
                  max={1}
                  low={0.8}
                  high={0.95}
                  optimum={0}
                  value={Math.min(1, share)}
                >
                  {percent(share)}
                </meter>{' '}
                ({percent(share)})
              </>
            )}
          </dd>
          <dt>Online pass rate</dt>
          <dd>
            {pass.rate === null
              ? 'no trace scored in the runs below'
              : `${percent(pass.rate)}: ${pass.scored - pass.failing} of ${pass.scored} traces scored in the latest ${s.runs.length} run${s.runs.length === 1 ? '' : 's'} passed every evaluator`}
          </dd>
        </dl>
      </section>

      <section aria-labelledby="online-runs">
        <h2 id="online-runs">Latest runs</h2>
        {s.runs.length === 0 ? (
          <p class="muted">No online evaluation run yet: the schedule runs every 5 minutes when it is on.</p>
        ) : (
          <table>
            <caption class="visually-hidden">Online evaluation runs, newest first</caption>
            <thead>
              <tr>
                <th scope="col">Window</th>
                <th scope="col">Traces</th>
                <th scope="col">Sampled</th>
                <th scope="col">Scored</th>
                <th scope="col">Failing</th>
                <th scope="col">Pass rate</th>
                <th scope="col">Not judged (cap)</th>
                <th scope="col">Judge calls</th>
                <th scope="col">Cost</th>
              </tr>
            </thead>
            <tbody>
              {s.runs.map((r) => (
                <tr key={`${r.windowStart}-${r.windowEnd}`}>
                  <td>
                    <Time iso={r.windowStart} /> – <Time iso={r.windowEnd} />
                  </td>
                  <td>{r.considered}</td>
                  <td>{r.sampled}</td>
                  <td>{r.scored}</td>
                  <td>{r.failing}</td>
                  <td>{r.scored > 0 ? percent((r.scored - r.failing) / r.scored) : '—'}</td>
                  <td>{r.skippedForCap}</td>
                  <td>{r.judgeCalls}</td>
                  <td>{dollars(r.costUsd)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>

      <section aria-labelledby="drift">
        <h2 id="drift">Drift alerts</h2>
        <p>
          {s.drift.enabled ? (
            <>
              The drift check is on
              {s.drift.startCycleOnAlert ? '; an alert starts a cycle early' : '; an alert starts no cycle'}.
              Reference since <Time iso={s.drift.epochStart} />, last check <Time iso={s.drift.lastCheckAt} />
              .
            </>
          ) : (
            <>
              The drift check is off for {s.agent}: turn it on with{' '}
              <code>flywheel agent set {s.agent} drift.enabled=true</code>.
            </>
          )}
        </p>
        {s.alerts.length === 0 ? (
          <p class="muted">No drift alert.</p>
        ) : (
          s.alerts.map((a) => <AlertView key={a.id} agent={s.agent} alert={a} />)
        )}
      </section>
    </>
  );
}

function AlertView({ agent, alert: a }: { agent: string; alert: OnlineEvaluationStatus['alerts'][number] }) {
  const [shown, setShown] = useState(false);
  const detail = useDriftAlert(agent, a.id, shown);
  const heading = `alert-${a.id}`;
  return (
    <article class="panel" aria-labelledby={heading}>
      <h3 id={heading}>
        Alert <code>{a.id}</code> at <Time iso={a.at} />
      </h3>
      <p>
        Reference window <Time iso={a.referenceStart} /> – <Time iso={a.currentStart} />, current window from{' '}
        <Time iso={a.currentStart} />.{' '}
        {a.cycleId ? (
          <>
            Started cycle <Link href={paths.cycle(a.cycleId)}>{a.cycleId}</Link>, which samples the{' '}
            {a.driftedTraces} drifted traces.
          </>
        ) : (
          `No cycle started; ${a.driftedTraces} drifted traces.`
        )}{' '}
        {a.notified ? 'Sent on the agent’s webhook.' : 'Not sent on the webhook yet.'}
      </p>
      <table>
        <caption>Findings of alert {a.id}</caption>
        <thead>
          <tr>
            <th scope="col">Slice</th>
            <th scope="col">What moved</th>
            <th scope="col">Before</th>
            <th scope="col">After</th>
            <th scope="col">Traces (before → after)</th>
            <th scope="col">Test</th>
            <th scope="col">Sample traces</th>
          </tr>
        </thead>
        <tbody>
          {a.findings.map((f, i) => (
            <tr key={i}>
              <td>{f.slice}</td>
              <td>{findingWhat(f)}</td>
              <td>{findingValue(f.metric, f.before)}</td>
              <td>{findingValue(f.metric, f.after)}</td>
              <td>
                {f.referenceCount} → {f.currentCount}
              </td>
              <td>
                {f.test.replace(/_/g, ' ')}, p = {f.pValue.toExponential(2)} ≤ {f.alpha.toExponential(2)}
              </td>
              <td>
                {f.sampleTraceIds.length === 0 ? (
                  '—'
                ) : (
                  <ul class="plain">
                    {f.sampleTraceIds.map((id) => (
                      <li key={id}>
                        <Link href={paths.trace(id)}>
                          <code>{id}</code>
                        </Link>
                      </li>
                    ))}
                  </ul>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {a.driftedTraces > 0 && (
        <button type="button" class="secondary" aria-expanded={shown} onClick={() => setShown((v) => !v)}>
          {shown ? 'Hide' : 'Show'} the {a.driftedTraces} drifted traces
        </button>
      )}
      {shown && (
        <QueryState query={detail} what="the drifted traces">
          {(d) => (
            <ul class="plain" aria-label={`Drifted traces of alert ${a.id}`}>
              {d.driftedTraceIds.map((id) => (
                <li key={id}>
                  <Link href={paths.trace(id)}>
                    <code>{id}</code>
                  </Link>
                </li>
              ))}
            </ul>
          )}
        </QueryState>
      )}
    </article>
  );
}
