import type { JSX } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { useTrace } from '../api/queries.js';
import { searchOf } from '../api/trace-filters.js';
import { actionOfMessage } from '../api/coaching-draft.js';
import { appliedCoaching, stepAnchor, stepOfHash } from '../api/coaching-figures.js';
import { useAddToQueue, useOpenQueues } from '../api/trace-queries.js';
import type { TraceDetail } from '../api/types.js';
import { CoachingForm } from '../components/coaching-form.js';
import { LineageView } from '../components/lineage-view.js';
import { QueryState, Time } from '../components/query-state.js';
import { SpanTreeView } from '../components/span-tree.js';
import { Transcript } from '../components/transcript.js';
import { Link, paths } from '../router.js';
import { holds, useMe } from '../session.js';
import { feedbackText } from './traces.js';
import { Breadcrumbs } from '../components/breadcrumbs.js';

/** One trace: what happened (transcript, span tree on demand), how it was judged, where it went. */
export function TracePage({ traceId }: { traceId: string }) {
  const trace = useTrace(traceId);
  return (
    <>
      <Breadcrumbs>
        <Link href={paths.traces()}>Traces</Link> ›
      </Breadcrumbs>
      <QueryState query={trace} what="the trace">
        {(t) => <TraceView detail={t} />}
      </QueryState>
    </>
  );
}

function TraceView({ detail }: { detail: TraceDetail }) {
  const { trace, transcript, spans, scores, annotations, lineage } = detail;
  const [graphShown, setGraphShown] = useState(false);
  const me = useMe();
  const canCoach = holds(me.grants, 'reviewer', trace.agent);
  /** The step a coaching form is open on (an index in the messages), or null. */
  const [coaching, setCoaching] = useState<number | null>(null);
  const closeCoaching = () => {
    const index = coaching;
    setCoaching(null);
    // Back to the button that opened it, as a dialog returns focus.
    requestAnimationFrame(() => document.getElementById(`coach-open-${index}`)?.focus());
  };
  const stepAction = (index: number) => {
    const last = index === transcript.messages.length;
    const message = transcript.messages[index];
    if (coaching === index)
      return (
        <CoachingForm
          agent={trace.agent}
          traceId={trace.id}
          messages={transcript.messages}
          step={index}
          start={
            last ? (transcript.expected ?? transcript.output) : message ? actionOfMessage(message) : null
          }
          onClose={closeCoaching}
        />
      );
    return (
      <button
        type="button"
        class="secondary small"
        id={`coach-open-${index}`}
        onClick={() => setCoaching(index)}
        aria-label={last ? 'Provide coaching on the step under review' : `Provide coaching on step ${index}`}
      >
        Provide coaching
      </button>
    );
  };
  // A link to one step (`#step-3`, as the coaching page links where it applied): that step is
  // highlighted, scrolled to and focused once the trace is shown.
  const target = stepOfHash(window.location.hash);
  useEffect(() => {
    if (target === null) return;
    const element = document.getElementById(stepAnchor(target));
    element?.scrollIntoView({ block: 'center' });
    element?.focus({ preventScroll: true });
  }, [trace.id, target]);
  const applied = appliedCoaching(trace.attributes);
  const version =
    trace.promptVersion === undefined ? null : `${trace.promptName ?? trace.agent} v${trace.promptVersion}`;
  return (
    <>
      <h1 tabIndex={-1}>Trace {trace.id}</h1>
      <dl class="trace-facts">
        <div>
          <dt>Agent</dt>
          <dd>{trace.agent}</dd>
        </div>
        <div>
          <dt>Started</dt>
          <dd>
            <Time iso={trace.timestamp} />
          </dd>
        </div>
        <div>
          <dt>Status</dt>
          <dd>
            <span class={`badge ${trace.status === 'error' ? 'bad' : 'good'}`}>{trace.status}</span>
          </dd>
        </div>
        <div>
          <dt>Outcome</dt>
          <dd>{trace.outcome ?? '—'}</dd>
        </div>
        <div>
          <dt>Feedback</dt>
          <dd>
            {feedbackText(trace.feedback)}
            {trace.feedback?.text ? ` — “${trace.feedback.text}”` : ''}
          </dd>
        </div>
        <div>
          <dt>Prompt version</dt>
          <dd>
            {version ? (
              <Link
                href={
                  paths.traces() +
                  searchOf({
                    agent: trace.agent,
                    promptName: trace.promptName ?? trace.agent,
                    promptVersion: String(trace.promptVersion),
                  })
                }
              >
                {version}
              </Link>
            ) : (
              '—'
            )}
          </dd>
        </div>
        <div>
          <dt>Model</dt>
          <dd>{trace.model ?? '—'}</dd>
        </div>
        <div>
          <dt>Latency</dt>
          <dd>{trace.latencyMs === undefined ? '—' : `${Math.round(trace.latencyMs)} ms`}</dd>
        </div>
        <div>
          <dt>Cost</dt>
          <dd>{trace.costUsd === undefined ? '—' : `$${trace.costUsd.toFixed(4)}`}</dd>
        </div>
        <div>
          <dt>Tokens</dt>
          <dd>
            {trace.usage
              ? `${trace.usage.inputTokens ?? '?'} in, ${trace.usage.outputTokens ?? '?'} out`
              : '—'}
          </dd>
        </div>
        {applied.length > 0 && (
          <div>
            <dt>Coaching applied</dt>
            <dd>
              {applied.map((c, i) => (
                <span key={c.tag}>
                  {i > 0 && ', '}
                  <Link href={paths.coaching(trace.agent, c.id)}>
                    <code>{c.tag}</code>
                  </Link>
                </span>
              ))}
            </dd>
          </div>
        )}
        {trace.sessionId && (
          <div>
            <dt>Session</dt>
            <dd>
              <code>{trace.sessionId}</code>
            </dd>
          </div>
        )}
      </dl>

      <AddToQueue traceId={trace.id} agent={trace.agent} queued={annotations} />

      <section aria-labelledby="conversation">
        <h2 id="conversation">Conversation</h2>
        <Transcript
          messages={transcript.messages}
          step={transcript.output}
          failing={trace.status === 'error' ? 'The trace ended with an error.' : null}
          {...(canCoach ? { stepAction } : {})}
          anchors
          target={target}
        />
        {transcript.expected && (
          <p>
            <strong>Expected step:</strong>{' '}
            {transcript.expected.action === 'respond' ? (
              (transcript.expected.content ?? 'a reply')
            ) : (
              <code>
                {transcript.expected.action}({JSON.stringify(transcript.expected.arguments ?? {})})
              </code>
            )}
          </p>
        )}
      </section>

      <section aria-labelledby="spans">
        <h2 id="spans">Spans</h2>
        {spans.spanCount === 0 ? (
          <p class="muted">This trace recorded no spans.</p>
        ) : (
          <SpanTreeView spans={spans} />
        )}
      </section>

      <section aria-labelledby="scores">
        <h2 id="scores">Scores</h2>
        {scores.length === 0 ? (
          <p class="muted">No cycle has scored this trace.</p>
        ) : (
          <table>
            <caption class="visually-hidden">Scores of every cycle</caption>
            <thead>
              <tr>
                <th scope="col">Cycle</th>
                <th scope="col">Evaluator</th>
                <th scope="col">Dimension</th>
                <th scope="col">Label</th>
                <th scope="col">Explanation</th>
              </tr>
            </thead>
            <tbody>
              {scores.map((s, i) => (
                <tr key={i}>
                  <td>
                    {s.cycleId ? (
                      <Link href={paths.cycle(s.cycleId)}>{s.cycleId}</Link>
                    ) : (
                      <span class="muted">online evaluation</span>
                    )}
                  </td>
                  <td>
                    {s.evaluator} <span class="muted">({s.source})</span>
                  </td>
                  <td>{s.dimension}</td>
                  <td>
                    <span
                      class={`badge ${s.label === 'pass' ? 'good' : s.label === 'fail' ? 'bad' : 'neutral'}`}
                    >
                      {s.label}
                    </span>
                  </td>
                  <td>{s.explanation}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>

      <section aria-labelledby="reviews">
        <h2 id="reviews">Reviews</h2>
        {annotations.length === 0 ? (
          <p class="muted">In no annotation queue yet.</p>
        ) : (
          <ul class="plain">
            {annotations.map((a) => (
              <li key={a.itemId}>
                {a.queueId ? (
                  <Link href={paths.item(a.queueId, a.itemId)}>Item {a.itemId}</Link>
                ) : (
                  <code>{a.itemId}</code>
                )}{' '}
                · {a.status}
                {a.labels.length > 0 &&
                  ` · ${a.labels.map((l) => `${l.reviewer}: ${l.verdict}${l.category ? ` (${l.category})` : ''}`).join(', ')}`}
              </li>
            ))}
          </ul>
        )}
      </section>

      <section aria-labelledby="lineage">
        <h2 id="lineage">Cycles and clusters</h2>
        {lineage.samples.length === 0 && lineage.clusters.length === 0 ? (
          <p class="muted">No cycle has sampled this trace.</p>
        ) : (
          <ul class="plain">
            {lineage.samples.map((s) => (
              <li key={s.cycleId}>
                Sampled by <Link href={paths.cycle(s.cycleId)}>{s.cycleId}</Link> ({s.reasons.join(', ')})
              </li>
            ))}
            {lineage.clusters.map((c) => (
              <li key={c.clusterId}>
                Cluster <strong>{c.name}</strong> ({c.category}){c.latest ? ', latest' : ''}:{' '}
                <Link
                  href={paths.traces() + searchOf({ agent: trace.agent, cluster: c.stableId ?? c.clusterId })}
                >
                  traces in this cluster
                </Link>
              </li>
            ))}
          </ul>
        )}
        <button type="button" class="secondary" onClick={() => setGraphShown(true)}>
          Lineage of this trace
        </button>
        {graphShown && <LineageView id={trace.id} onClose={() => setGraphShown(false)} />}
      </section>
    </>
  );
}

/** "Add to queue": an open queue of the trace's agent; the API records who added it. */
function AddToQueue({
  traceId,
  agent,
  queued,
}: {
  traceId: string;
  agent: string;
  queued: TraceDetail['annotations'];
}) {
  const me = useMe();
  const canAdd = holds(me.grants, 'reviewer', agent);
  const queues = useOpenQueues(agent, canAdd);
  const add = useAddToQueue(traceId);
  const [chosen, setChosen] = useState('');
  // The form goes once no open queue is left to add to, and the focused button with it: focus
  // goes to the notice of what was added (with its links) once it is on the page. (A callback
  // on the mutation ran before the notice rendered, so the focus sometimes found nothing.)
  const notice = useRef<HTMLParagraphElement>(null);
  useEffect(() => {
    if (add.data) notice.current?.focus();
  }, [add.data]);
  if (!canAdd) return null;
  const inQueue = new Set(queued.map((a) => a.queueId));
  const choices = (queues.data ?? []).filter((q) => !inQueue.has(q.id));
  const onSubmit = (event: JSX.TargetedSubmitEvent<HTMLFormElement>) => {
    event.preventDefault();
    const queueId = chosen || choices[0]?.id;
    if (queueId) add.mutate(queueId);
  };
  return (
    <section aria-labelledby="add-to-queue" class="panel">
      <h2 id="add-to-queue" class="small">
        Add to an annotation queue
      </h2>
      {add.isSuccess && (
        <p id="added-to-queue" ref={notice} class="notice" role="status" tabIndex={-1}>
          Added to {add.data.queueId} as item {add.data.itemId}.{' '}
          <Link href={paths.item(add.data.queueId, add.data.itemId)}>Open the item</Link> ·{' '}
          <Link href={paths.queue(add.data.queueId)}>Open the queue</Link>
        </p>
      )}
      {add.isError && (
        <p class="error" role="alert">
          Not added: {add.error.message}
        </p>
      )}
      <QueryState query={queues} what="open queues">
        {() =>
          choices.length === 0 ? (
            <p class="muted">
              {add.isSuccess
                ? ''
                : `No open queue of agent ${agent} takes this trace: a cycle opens one when it needs labels.`}
            </p>
          ) : (
            <form class="toolbar" onSubmit={onSubmit}>
              <label for="queue-choice" class="inline">
                Queue
              </label>
              <select
                id="queue-choice"
                value={chosen || choices[0]?.id}
                onChange={(e) => setChosen(e.currentTarget.value)}
                class="auto"
              >
                {choices.map((q) => (
                  <option key={q.id} value={q.id}>
                    {q.name} ({q.items} items)
                  </option>
                ))}
              </select>
              <button type="submit" disabled={add.isPending}>
                {add.isPending ? 'Adding…' : 'Add to queue'}
              </button>
            </form>
          )
        }
      </QueryState>
    </section>
  );
}
