import { useEffect, useRef, useState } from 'preact/hooks';
import { useGateReview, useCycleStatus, useTemporalUi } from '../api/release-queries.js';
import { CYCLE_STAGES, type ApprovalResult, type CycleStatus } from '../api/release-types.js';
import { ApprovalForm, recordedText } from '../components/approval-form.js';
import { GateReportView, PromptDiff } from '../components/gate-report.js';
import { OptimizerProgress } from '../components/optimizer-progress.js';
import { QueryState, Time } from '../components/query-state.js';
import { Link, paths } from '../router.js';
import { holds, useMe } from '../session.js';
import { OutcomeBadge } from '../components/outcome-badge.js';
import { Breadcrumbs } from '../components/breadcrumbs.js';

const words = (s: string) => s.replace(/_/g, ' ');
const score = (x: number) => x.toFixed(3);

/** One improvement cycle as it runs: stages, what each found, the gate, and the release decision. */
export function CyclePage({ cycleId }: { cycleId: string }) {
  const status = useCycleStatus(cycleId);
  return (
    <>
      <Breadcrumbs>
        <Link href={paths.home()}>Home</Link> › Cycle
      </Breadcrumbs>
      <h1 tabIndex={-1}>
        Cycle <code>{cycleId}</code>
      </h1>
      <QueryState query={status} what="the cycle">
        {(s) => <CycleDetails status={s} />}
      </QueryState>
    </>
  );
}

function CycleDetails({ status }: { status: CycleStatus }) {
  const me = useMe();
  const approver = holds(me.grants, 'approver', status.agent);
  const gate = useGateReview(status.cycleId, status.gate !== undefined);
  const waiting = status.stage === 'awaiting_approval' && status.outcome === 'in_progress';
  // The decision that settles the cycle moves it on, which unmounts the form and its notice:
  // kept here, so the person who decided still reads that it was recorded.
  const [settled, setSettled] = useState<ApprovalResult | null>(null);
  // The decision that settles the cycle removes the form, and the focused button with it:
  // focus goes to what was recorded instead of the top of the page.
  const recorded = useRef<HTMLParagraphElement>(null);
  const shown = !waiting && settled !== null;
  useEffect(() => {
    if (shown) recorded.current?.focus();
  }, [shown]);
  return (
    <>
      <p>
        Agent <strong>{status.agent}</strong> · outcome <OutcomeBadge outcome={status.outcome} />{' '}
        <TemporalLink cycleId={status.cycleId} />
      </p>
      <Timeline status={status} />
      <Findings status={status} />
      {status.stages.some((r) => r.stage === 'optimizing') && (
        <OptimizerProgress cycleId={status.cycleId} optimizing={status.stage === 'optimizing'} />
      )}

      <section aria-labelledby="gate">
        <h2 id="gate">Regression gate</h2>
        {status.gate === undefined ? (
          <p>The gate has not run yet: it compares the candidate with production after optimization.</p>
        ) : (
          <QueryState query={gate} what="the gate report">
            {(review) => <GateReportView review={review} agent={status.agent} />}
          </QueryState>
        )}
      </section>
      {status.gate !== undefined && (
        <section aria-labelledby="diff">
          <h2 id="diff">Candidate prompt against production</h2>
          <QueryState query={gate} what="the prompt diff">
            {(review) => <PromptDiff review={review} />}
          </QueryState>
        </section>
      )}

      <section aria-labelledby="approval">
        <h2 id="approval">Approval</h2>
        <ApprovalSummary status={status} />
        {waiting &&
          (approver ? (
            <ApprovalForm
              status={status}
              onDecided={(result) => setSettled(result.decision === 'pending' ? null : result)}
            />
          ) : (
            <p class="muted">Approving or rejecting a release needs the approver role for {status.agent}.</p>
          ))}
        {shown && (
          <p role="status" tabIndex={-1} ref={recorded}>
            {recordedText(settled)}
          </p>
        )}
      </section>

      {status.rollout && (
        <section aria-labelledby="rollout">
          <h2 id="rollout">Rollout</h2>
          <p>
            {words(status.rollout.status)} at {status.rollout.weight}% of traffic
            {status.rollout.reason && <> · {status.rollout.reason}</>} ·{' '}
            <Link href={paths.rollout(status.rollout.rolloutId)}>
              Open the rollout {status.rollout.rolloutId}
            </Link>
          </p>
        </section>
      )}
    </>
  );
}

/** Every stage in order: done ones with when they started and what they found, the current one marked. */
function Timeline({ status }: { status: CycleStatus }) {
  const reached = new Map(status.stages.map((r) => [r.stage, r]));
  const current = status.stage;
  return (
    <section aria-labelledby="stages">
      <h2 id="stages">Stages</h2>
      {/* Announced when the poll brings a new stage: the page changes without a reload. */}
      <p aria-live="polite">
        Current stage: <strong>{words(current)}</strong>
      </p>
      <ol class="timeline">
        {CYCLE_STAGES.map((stage) => {
          const record = reached.get(stage);
          const state = stage === current ? 'current' : record ? 'done' : 'pending';
          return (
            <li key={stage} class={state} aria-current={state === 'current' ? 'step' : undefined}>
              <span class="stage-name">{words(stage)}</span>{' '}
              <span class="muted">
                {state === 'pending' ? 'not reached' : <Time iso={record?.startedAt} />}
              </span>
              {record?.summary && <div class="stage-summary">{record.summary}</div>}
            </li>
          );
        })}
      </ol>
    </section>
  );
}

function Findings({ status }: { status: CycleStatus }) {
  const { sample, scoring, clusters, dataset, optimization, annotation } = status;
  return (
    <>
      <section aria-labelledby="sample">
        <h2 id="sample">Sample and scores</h2>
        {!sample && !scoring ? (
          <p>Not sampled yet.</p>
        ) : (
          <dl class="facts">
            {sample && (
              <>
                <dt>Traces sampled</dt>
                <dd>
                  {sample.sampled} ({sample.negative} with negative signals, {sample.random} at random)
                </dd>
              </>
            )}
            {scoring && (
              <>
                <dt>Scored</dt>
                <dd>
                  {scoring.scored}, {scoring.failing} failing · {scoring.judgeCalls} judge calls
                  {scoring.evaluatorErrors > 0 && <> · {scoring.evaluatorErrors} evaluator errors</>}
                </dd>
              </>
            )}
            {annotation && (
              <>
                <dt>Annotation</dt>
                <dd>
                  {annotation.labelled} of {annotation.items} items labelled · {words(annotation.decidedBy)}
                </dd>
              </>
            )}
            {dataset && (
              <>
                <dt>Dataset version</dt>
                <dd>
                  <code>{dataset.datasetVersionId}</code>: {dataset.train} train, {dataset.eval} eval
                  {dataset.holdout !== undefined && <>, {dataset.holdout} holdout</>}
                </dd>
              </>
            )}
            {optimization && (
              <>
                <dt>Optimization</dt>
                <dd>
                  {optimization.optimizer}: best {score(optimization.bestScore)} against production{' '}
                  {score(optimization.baselineScore)} after {optimization.rollouts} rollouts (
                  {words(optimization.stopReason)})
                </dd>
              </>
            )}
          </dl>
        )}
      </section>
      <section aria-labelledby="clusters">
        <h2 id="clusters">Failure clusters</h2>
        {!clusters || clusters.length === 0 ? (
          <p>{clusters ? 'No failure cluster.' : 'Not diagnosed yet.'}</p>
        ) : (
          <table>
            <thead>
              <tr>
                <th scope="col">Cluster</th>
                <th scope="col">Traces</th>
                <th scope="col">Diagnosis</th>
                <th scope="col">Cheapest fix</th>
              </tr>
            </thead>
            <tbody>
              {clusters.map((c) => (
                <tr key={c.id}>
                  <th scope="row">
                    {c.name} {c.isNew && <span class="badge neutral">new</span>}
                  </th>
                  <td>{c.size}</td>
                  <td>{words(c.category)}</td>
                  <td>{c.intervention ?? '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
    </>
  );
}

function ApprovalSummary({ status }: { status: CycleStatus }) {
  const a = status.approval;
  if (!a)
    return status.stage === 'awaiting_approval' ? (
      <p>
        <span class="badge neutral">waiting</span> for the agent's approvers: no answer yet.
      </p>
    ) : (
      <p>No approval asked yet: the gate asks for one when the candidate passes.</p>
    );
  return (
    <p>
      <span
        class={`badge ${a.decision === 'approved' ? 'good' : a.decision === 'pending' ? 'neutral' : 'bad'}`}
      >
        {a.decision === 'pending' ? 'waiting' : a.decision}
      </span>
      {a.required !== undefined && (
        <>
          {' '}
          {a.approvers?.length ?? 0} of {a.required} approvals
          {a.approvers && a.approvers.length > 0 && <> ({a.approvers.join(', ')})</>}
        </>
      )}
      {a.by && <> · by {a.by}</>}
      {a.reason && <> · {a.reason}</>}
    </p>
  );
}

/** The cycle's workflow in the Temporal Web UI, where operators read its full history. */
function TemporalLink({ cycleId }: { cycleId: string }) {
  const ui = useTemporalUi();
  if (!ui.data?.url) return null;
  const href = `${ui.data.url}/namespaces/${encodeURIComponent(ui.data.namespace)}/workflows/${encodeURIComponent(cycleId)}`;
  return (
    <>
      ·{' '}
      <a href={href} target="_blank" rel="noopener noreferrer">
        Open in the Temporal Web UI
      </a>
    </>
  );
}
