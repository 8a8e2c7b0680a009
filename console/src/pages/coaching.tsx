import type { JSX } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import {
  appliedTracesSearch,
  differenceText,
  markOutcome,
  rateText,
  stepAnchor,
  thresholdText,
} from '../api/coaching-figures.js';
import {
  useCoaching,
  useCoachingEffect,
  useMarkCoaching,
  useMoveCoaching,
  type Coaching,
  type CoachingApplication,
  type CoachingEffect,
  type CoachingVersion,
  type MarkVerdict,
  type StatusMove,
} from '../api/coaching-queries.js';
import { QueryState, Time } from '../components/query-state.js';
import { Link, paths } from '../router.js';
import { holds, useMe } from '../session.js';
import { statusBadge } from './coaching-list.js';
import { feedbackText } from './traces.js';
import { Breadcrumbs } from '../components/breadcrumbs.js';

const WINDOWS = [7, 30, 90, 365] as const;
const DEFAULT_WINDOW = 30;

const stepLink = (traceId: string, step: number) => `${paths.trace(traceId)}#${stepAnchor(step)}`;

/**
 * One coaching: what it teaches, its versions, its measured effect (success with it vs similar
 * conversations without it, per signal, with intervals) and every trace that applied it, at
 * the exact step, where reviewers mark the application correct or wrong (which moves its
 * recall threshold). Reviewers retire it, approvers promote a candidate; the API decides.
 */
export function CoachingPage({ agentId, coachingId }: { agentId: string; coachingId: string }) {
  const one = useCoaching(agentId, coachingId);
  return (
    <>
      <Breadcrumbs>
        <Link href={paths.home()}>Home</Link> › <Link href={paths.agent(agentId)}>Agent dashboard</Link> ›{' '}
        <Link href={paths.agentCoaching(agentId)}>Coaching</Link> ›
      </Breadcrumbs>
      <h1 tabIndex={-1}>
        Coaching <code>{coachingId}</code>
      </h1>
      <QueryState query={one} what="the coaching">
        {({ coaching, versions }) => <CoachingView agent={agentId} coaching={coaching} versions={versions} />}
      </QueryState>
    </>
  );
}

function CoachingView({
  agent,
  coaching: c,
  versions,
}: {
  agent: string;
  coaching: Coaching;
  versions: CoachingVersion[];
}) {
  const me = useMe();
  const canMark = holds(me.grants, 'reviewer', agent);
  const canRetire = canMark && c.status !== 'retired';
  const canPromote = holds(me.grants, 'approver', agent) && c.status === 'candidate';
  return (
    <>
      <dl class="trace-facts">
        <div id="coaching-status" tabIndex={-1}>
          <dt>Status</dt>
          <dd>
            <span class={`badge ${statusBadge(c.status)}`}>{c.status}</span>
          </dd>
        </div>
        <div>
          <dt>Version</dt>
          <dd>v{c.version}</dd>
        </div>
        <div>
          <dt>Recall threshold</dt>
          <dd>{thresholdText(c)}</dd>
        </div>
        {c.thresholdCalibration && (
          <div>
            <dt>Threshold chosen</dt>
            <dd>{c.thresholdCalibration.summary}</dd>
          </div>
        )}
        <div>
          <dt>Author</dt>
          <dd>{c.author}</dd>
        </div>
        <div>
          <dt>Last change</dt>
          <dd>
            {c.updatedBy}, <Time iso={c.changedAt} />
          </dd>
        </div>
        <div>
          <dt>Written on</dt>
          <dd>
            {c.sourceTraceId ? (
              <Link href={stepLink(c.sourceTraceId, c.sourceStep ?? 0)}>
                step {c.sourceStep ?? 0} of <code>{c.sourceTraceId}</code>
              </Link>
            ) : (
              'no trace'
            )}
          </dd>
        </div>
      </dl>

      <section aria-labelledby="teaches">
        <h2 id="teaches">What it teaches</h2>
        <dl class="facts">
          <dt>Situation</dt>
          <dd>{c.situation}</dd>
          <dt>Behaviour</dt>
          <dd>
            <Behaviour behaviour={c.behaviour} />
          </dd>
          {c.example && (
            <>
              <dt>Example request</dt>
              <dd class="text">{c.example}</dd>
            </>
          )}
        </dl>
      </section>

      {(canRetire || canPromote) && (
        <StatusActions agent={agent} coaching={c} canRetire={canRetire} canPromote={canPromote} />
      )}

      <Effect agent={agent} coaching={c} canMark={canMark} />

      <section aria-labelledby="versions">
        <h2 id="versions">Versions</h2>
        <table>
          <caption class="visually-hidden">Versions of coaching {c.id}, oldest first</caption>
          <thead>
            <tr>
              <th scope="col">Version</th>
              <th scope="col">Status</th>
              <th scope="col">Threshold</th>
              <th scope="col">By</th>
              <th scope="col">Reason</th>
              <th scope="col">At</th>
            </tr>
          </thead>
          <tbody>
            {versions.map((v) => (
              <tr key={v.version} class={v.current ? 'current-row' : undefined}>
                <th scope="row">
                  v{v.version}
                  {v.current ? ' (current)' : ''}
                </th>
                <td>{v.status}</td>
                <td>{v.threshold}</td>
                <td>{v.createdBy}</td>
                <td>{v.reason}</td>
                <td>
                  <Time iso={v.createdAt} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
    </>
  );
}

function Behaviour({ behaviour: b }: { behaviour: Coaching['behaviour'] }) {
  switch (b.kind) {
    case 'reply':
      return <p class="text">Reply: {b.text}</p>;
    case 'ask_confirmation':
      return <p class="text">Ask for confirmation: {b.text}</p>;
    case 'transfer':
      return <p class="text">Transfer to a human: {b.reason}</p>;
    case 'tool_call':
      return (
        <p>
          Call <code>{b.tool}</code> with <code>{JSON.stringify(b.arguments ?? {})}</code>
        </p>
      );
  }
}

/** Retire (reviewers, not retired yet) and promote (approvers, candidates only), with a reason. */
function StatusActions({
  agent,
  coaching,
  canRetire,
  canPromote,
}: {
  agent: string;
  coaching: Coaching;
  canRetire: boolean;
  canPromote: boolean;
}) {
  const [reason, setReason] = useState('');
  const [missing, setMissing] = useState(false);
  const input = useRef<HTMLInputElement>(null);
  const move = useMoveCoaching(agent, coaching.id);
  // The notice takes focus once it is rendered: the callback below can run before the re-render
  // that shows it (and then focuses the status), which this corrects.
  const moved = useRef<HTMLParagraphElement>(null);
  useEffect(() => {
    if (move.data) moved.current?.focus();
  }, [move.data]);
  const act = (what: StatusMove) => {
    if (!reason.trim()) {
      setMissing(true);
      input.current?.focus();
      return;
    }
    setMissing(false);
    move.mutate(
      { move: what, reason: reason.trim() },
      {
        onSuccess: () => {
          setReason('');
          // The pressed button goes with the status it changed (and the whole form once
          // retired): focus goes to what was done, or else to the new status.
          requestAnimationFrame(() =>
            (
              document.getElementById('coaching-moved') ?? document.getElementById('coaching-status')
            )?.focus(),
          );
        },
      },
    );
  };
  return (
    <section aria-labelledby="decide" class="panel">
      <h2 id="decide" class="small">
        Decide
      </h2>
      <form
        onSubmit={(event: JSX.TargetedSubmitEvent<HTMLFormElement>) => {
          event.preventDefault();
          act(canPromote ? 'promote' : 'retire');
        }}
      >
        <label for="coaching-reason">Reason (kept in the audit log)</label>
        <input
          id="coaching-reason"
          ref={input}
          value={reason}
          aria-invalid={missing}
          {...(missing ? { 'aria-describedby': 'coaching-reason-missing' } : {})}
          onInput={(e) => setReason(e.currentTarget.value)}
        />
        {missing && (
          <p id="coaching-reason-missing" class="error" role="alert">
            Give a reason first.
          </p>
        )}
        <div class="toolbar">
          {canPromote && (
            <button type="button" disabled={move.isPending} onClick={() => act('promote')}>
              Promote to active
            </button>
          )}
          {canRetire && (
            <button type="button" class="danger" disabled={move.isPending} onClick={() => act('retire')}>
              Retire
            </button>
          )}
        </div>
        {move.isError && (
          <p class="error" role="alert">
            Not done: {move.error.message}
          </p>
        )}
        {move.isSuccess && (
          <p id="coaching-moved" ref={moved} class="notice" role="status" tabIndex={-1}>
            Coaching {move.data.coaching.id} is {move.data.coaching.status} (v{move.data.coaching.version}).
          </p>
        )}
      </form>
    </section>
  );
}

function Effect({ agent, coaching, canMark }: { agent: string; coaching: Coaching; canMark: boolean }) {
  const [days, setDays] = useState<number>(DEFAULT_WINDOW);
  const effect = useCoachingEffect(agent, coaching.id, days);
  return (
    <>
      <section aria-labelledby="effect">
        <h2 id="effect">Measured effect</h2>
        <p class="toolbar">
          <label class="inline" for="effect-window">
            Window
          </label>
          <select
            id="effect-window"
            class="auto"
            value={days}
            onChange={(e) => setDays(Number(e.currentTarget.value))}
          >
            {WINDOWS.map((d) => (
              <option key={d} value={d}>
                last {d} days
              </option>
            ))}
          </select>
        </p>
        <QueryState query={effect} what="the measured effect">
          {(e) => <Success effect={e} />}
        </QueryState>
      </section>
      <section aria-labelledby="applied">
        <h2 id="applied">Where it was applied</h2>
        <QueryState query={effect} what="where it was applied">
          {(e) => <Applications agent={agent} effect={e} canMark={canMark} />}
        </QueryState>
      </section>
      <section aria-labelledby="thresholds">
        <h2 id="thresholds">Threshold history</h2>
        <QueryState query={effect} what="the thresholds">
          {(e) => (
            <table>
              <caption class="visually-hidden">
                Every threshold of coaching {coaching.id}, oldest first
              </caption>
              <thead>
                <tr>
                  <th scope="col">Version</th>
                  <th scope="col">Threshold</th>
                  <th scope="col">By</th>
                  <th scope="col">Why</th>
                  <th scope="col">At</th>
                </tr>
              </thead>
              <tbody>
                {e.thresholds.map((t) => (
                  <tr key={t.version}>
                    <th scope="row">v{t.version}</th>
                    <td>{t.threshold}</td>
                    <td>{t.createdBy}</td>
                    <td>{t.reason}</td>
                    <td>
                      <Time iso={t.createdAt} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </QueryState>
      </section>
    </>
  );
}

function Success({ effect: e }: { effect: CoachingEffect }) {
  const signals = [
    ['User feedback', e.success.feedback],
    ['Online judge', e.success.onlineJudge],
  ] as const;
  return (
    <>
      <p>
        From <Time iso={e.window.from} /> to <Time iso={e.window.to} />: applied in {e.applied.traces} trace
        {e.applied.traces === 1 ? '' : 's'}
        {e.applied.capped ? ' (counted up to this many)' : ''}, compared with {e.baseline.similar} similar
        conversation{e.baseline.similar === 1 ? '' : 's'} without it (of {e.baseline.scanned} scanned
        {e.baseline.capped ? ', the newest only' : ''}).
      </p>
      <table>
        <caption>Success with and without coaching {e.coaching.id}</caption>
        <thead>
          <tr>
            <th scope="col">Signal</th>
            <th scope="col">With it</th>
            <th scope="col">Without it (similar conversations)</th>
            <th scope="col">Difference</th>
          </tr>
        </thead>
        <tbody>
          {signals.map(([name, s]) => (
            <tr key={name}>
              <th scope="row">{name}</th>
              <td>{rateText(s.with)}</td>
              <td>{rateText(s.without)}</td>
              <td>{differenceText(s)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <p class="hint">
        Similar conversations: {e.baseline.rule} (embedder {e.baseline.embedder}). Feedback counts thumbs up
        or down only; the online judge counts traces it scored.
      </p>
    </>
  );
}

function Applications({
  agent,
  effect: e,
  canMark,
}: {
  agent: string;
  effect: CoachingEffect;
  canMark: boolean;
}) {
  const me = useMe();
  const mark = useMarkCoaching(agent, e.coaching.id);
  const outcome = useRef<HTMLDivElement>(null);
  const send = (traceId: string, verdict: MarkVerdict) =>
    mark.mutate(
      { traceId, verdict },
      { onSettled: () => requestAnimationFrame(() => outcome.current?.focus()) },
    );
  // Marks name the reviewer as the API labels a person (`user:<id>`).
  const mine = (a: CoachingApplication) => a.marks.find((m) => m.reviewer === me.label)?.verdict;
  const listed = e.applied.shown.length;
  return (
    <>
      <p>
        {e.applied.traces === 0
          ? `No trace of the last ${e.window.days} days applied it.`
          : `${e.applied.traces} trace${e.applied.traces === 1 ? '' : 's'} of the last ${e.window.days} days applied it${listed < e.applied.traces ? `; the newest ${listed} are listed` : ''}. Reviewers marked ${e.marks.correct} correctly applied and ${e.marks.wrong} wrongly applied.`}{' '}
        <Link href={paths.traces() + appliedTracesSearch(agent, e.coaching.id)}>
          Every trace that applied it, in the trace list
        </Link>
      </p>
      <div ref={outcome} tabIndex={-1}>
        {mark.isSuccess && (
          <p class="notice" role="status">
            {markOutcome(mark.data)}
          </p>
        )}
        {mark.isError && (
          <p class="error" role="alert">
            Not marked: {mark.error.message}
          </p>
        )}
      </div>
      {listed > 0 && (
        <table>
          <caption class="visually-hidden">
            Traces that applied coaching {e.coaching.id}, newest first
          </caption>
          <thead>
            <tr>
              <th scope="col">Trace</th>
              <th scope="col">Started</th>
              <th scope="col">Applied at</th>
              <th scope="col">Version</th>
              <th scope="col">Feedback</th>
              <th scope="col">Online judge</th>
              <th scope="col">Marks</th>
              {canMark && <th scope="col">Your mark</th>}
            </tr>
          </thead>
          <tbody>
            {e.applied.shown.map((a) => {
              const yours = mine(a);
              return (
                <tr key={a.traceId}>
                  <th scope="row" class="trace-id">
                    <Link href={paths.trace(a.traceId)}>
                      <code>{a.traceId}</code>
                    </Link>
                  </th>
                  <td>
                    <Time iso={a.startedAt} />
                  </td>
                  <td>
                    <Link
                      href={stepLink(a.traceId, a.step)}
                      aria-label={`Step ${a.step} of trace ${a.traceId}`}
                    >
                      step {a.step}
                    </Link>
                  </td>
                  <td>{a.versions.map((v) => `v${v}`).join(', ')}</td>
                  <td>{feedbackText(a.feedback === null ? undefined : { score: a.feedback })}</td>
                  <td>{a.onlineJudge ?? '—'}</td>
                  <td>
                    {a.marks.length === 0
                      ? '—'
                      : a.marks
                          .map((m) => `${m.reviewer}: ${m.verdict === 'correct' ? 'correct' : 'wrong'}`)
                          .join(', ')}
                  </td>
                  {canMark && (
                    <td>
                      <div class="toolbar" role="group" aria-label={`Your mark on trace ${a.traceId}`}>
                        <button
                          type="button"
                          class={yours === 'correct' ? undefined : 'secondary'}
                          aria-pressed={yours === 'correct'}
                          disabled={mark.isPending}
                          onClick={() => send(a.traceId, 'correct')}
                        >
                          Correctly applied
                        </button>
                        <button
                          type="button"
                          class={yours === 'wrong' ? 'danger' : 'secondary'}
                          aria-pressed={yours === 'wrong'}
                          disabled={mark.isPending}
                          onClick={() => send(a.traceId, 'wrong')}
                        >
                          Wrongly applied
                        </button>
                      </div>
                    </td>
                  )}
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </>
  );
}
