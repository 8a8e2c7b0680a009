import type { JSX } from 'preact';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { clusterChoices } from '../api/cluster-choices.js';
import { useCoachingList } from '../api/coaching-queries.js';
import { useAgents } from '../api/queries.js';
import {
  COACHING_APPLIED,
  FEEDBACK,
  OUTCOMES,
  pageSearchOf,
  queryFiltersOf,
  searchStateOf,
  STATUSES,
  TIME_RANGES,
  type SearchState,
  type TimeRange,
  type TraceFilters,
} from '../api/trace-filters.js';
import {
  useAddManyToQueue,
  useAgentClusters,
  useOpenQueues,
  useTraceSearch,
  type TraceListItem,
} from '../api/trace-queries.js';
import { QueryState, Time } from '../components/query-state.js';
import { Link, navigate, paths, useLocation } from '../router.js';
import { holds, useMe } from '../session.js';

/** `datetime-local` shows and takes the reader's local time; the API wants an ISO instant. */
const localInput = (iso: string | undefined): string => {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
};
const isoOf = (local: string): string => (local ? new Date(local).toISOString() : '');

export const feedbackText = (feedback: TraceListItem['feedback']) =>
  feedback === undefined
    ? '—'
    : feedback.score > 0
      ? 'positive'
      : feedback.score < 0
        ? 'negative'
        : 'neutral';

type TimeMode = 'any' | TimeRange | 'custom';
const RANGE_NAMES = Object.keys(TIME_RANGES) as TimeRange[];

/** Trace search: filters in the address (shareable), results newest first, older pages on demand. */
export function TracesPage() {
  const me = useMe();
  const search = useLocation().split('?')[1] ?? '';
  const state = searchStateOf(search);
  // The form and the results are rebuilt for each search (keyed on it), and the focused
  // Search button or "Clear filters" link with them: focus then goes to the results' heading
  // rather than the top of the page. Not on the first render: the layout focuses the h1.
  const searched = useRef(false);
  useEffect(() => {
    if (searched.current && document.activeElement === document.body)
      document.getElementById('results')?.focus();
    searched.current = true;
  }, [search]);
  const agents = useAgents();
  // Listing every agent's traces needs a global role; a person with roles for some agents
  // searches one of them at a time.
  const global = holds(me.grants, 'viewer', null);
  const ownAgents = [...new Set(me.grants.map((g) => g.agent).filter((a): a is string => a !== null))].sort();
  const agentChoices = global ? (agents.data?.map((a) => a.id) ?? []) : ownAgents;
  const filters = state.filters;
  const effective: TraceFilters =
    !global && !filters.agent && ownAgents[0] ? { ...filters, agent: ownAgents[0] } : filters;
  // A preset ("last 24 hours") ends when the address was opened: one instant per address, so
  // the search's cache key holds still while the page shows it.
  const openedAt = useMemo(() => Date.now(), [search]);
  const query = queryFiltersOf({ ...state, filters: effective }, openedAt);

  return (
    <>
      <h1 tabIndex={-1}>Traces</h1>
      <FilterForm
        key={search}
        state={state}
        agent={effective.agent}
        agentChoices={agentChoices}
        global={global}
        cleared={search === ''}
      />
      <Results key={search} filters={query} range={state.range} />
    </>
  );
}

function FilterForm({
  state,
  agent: initialAgent,
  agentChoices,
  global,
  cleared,
}: {
  state: SearchState;
  agent: string | undefined;
  agentChoices: string[];
  global: boolean;
  cleared: boolean;
}) {
  const { filters } = state;
  const [agent, setAgent] = useState(initialAgent ?? '');
  const [time, setTime] = useState<TimeMode>(state.range ?? (filters.from || filters.to ? 'custom' : 'any'));

  const onSubmit = (event: JSX.TargetedSubmitEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const text = (name: string) => {
      const v = form.get(name);
      return typeof v === 'string' ? v : '';
    };
    const next: Record<string, string> = {
      agent: text('agent'),
      status: text('status'),
      outcome: text('outcome'),
      feedback: text('feedback'),
      cluster: text('cluster'),
      promptName: text('promptName'),
      promptVersion: text('promptVersion'),
      q: text('q'),
      coaching: text('coaching'),
      ...(time === 'custom' ? { from: isoOf(text('from')), to: isoOf(text('to')) } : {}),
      ...(time !== 'custom' && time !== 'any' ? { range: time } : {}),
    };
    navigate(paths.traces() + pageSearchOf(searchStateOf(new URLSearchParams(next).toString())));
  };

  return (
    <form class="filters" role="search" aria-label="Filter traces" onSubmit={onSubmit}>
      <div>
        <label for="f-agent">Agent</label>
        <select id="f-agent" name="agent" value={agent} onChange={(e) => setAgent(e.currentTarget.value)}>
          {global && <option value="">All agents</option>}
          {agentChoices.map((a) => (
            <option key={a} value={a}>
              {a}
            </option>
          ))}
        </select>
      </div>
      <fieldset class="time-choice wide">
        <legend>Time</legend>
        <label class="inline">
          <input
            type="radio"
            name="time"
            value="any"
            checked={time === 'any'}
            onChange={() => setTime('any')}
          />{' '}
          Any time
        </label>
        {RANGE_NAMES.map((r) => (
          <label key={r} class="inline">
            <input type="radio" name="time" value={r} checked={time === r} onChange={() => setTime(r)} />{' '}
            {TIME_RANGES[r].label}
          </label>
        ))}
        <label class="inline">
          <input
            type="radio"
            name="time"
            value="custom"
            checked={time === 'custom'}
            onChange={() => setTime('custom')}
          />{' '}
          Custom
        </label>
      </fieldset>
      {time === 'custom' && (
        <>
          <div>
            <label for="f-from">From</label>
            <input id="f-from" name="from" type="datetime-local" defaultValue={localInput(filters.from)} />
          </div>
          <div>
            <label for="f-to">To</label>
            <input id="f-to" name="to" type="datetime-local" defaultValue={localInput(filters.to)} />
          </div>
        </>
      )}
      <Choice id="f-status" name="status" label="Status" values={STATUSES} value={filters.status} />
      <Choice id="f-outcome" name="outcome" label="Outcome" values={OUTCOMES} value={filters.outcome} />
      <Choice id="f-feedback" name="feedback" label="Feedback" values={FEEDBACK} value={filters.feedback} />
      {/* Another agent's clusters do not hold the address's one. */}
      <ClusterPicker
        agent={agent || undefined}
        value={agent === (initialAgent ?? '') ? filters.cluster : undefined}
      />
      <CoachingPicker
        agent={agent || undefined}
        value={agent === (initialAgent ?? '') ? filters.coaching : undefined}
      />
      <div>
        <label for="f-prompt">Prompt</label>
        <input
          id="f-prompt"
          name="promptName"
          defaultValue={filters.promptName ?? ''}
          placeholder="prompt name"
        />
      </div>
      <div>
        <label for="f-version">Version</label>
        <input
          id="f-version"
          name="promptVersion"
          type="number"
          min={1}
          inputMode="numeric"
          defaultValue={filters.promptVersion ?? ''}
        />
      </div>
      <div class="wide">
        <label for="f-q">Text in input or output</label>
        <input id="f-q" name="q" type="search" defaultValue={filters.q ?? ''} />
      </div>
      <div class="actions">
        <button type="submit">Search</button>
        {!cleared && <Link href={paths.traces()}>Clear filters</Link>}
      </div>
    </form>
  );
}

/** The clusters of the chosen agent's newest cycles; without an agent, only the address's one. */
function ClusterPicker({ agent, value }: { agent: string | undefined; value: string | undefined }) {
  const clusters = useAgentClusters(agent);
  const choices = clusterChoices(clusters.data ?? [], value);
  const hint = !agent
    ? 'Choose an agent to pick one of its clusters.'
    : clusters.isPending
      ? 'Loading the clusters…'
      : clusters.isError
        ? `Could not load the clusters: ${clusters.error.message}`
        : choices.length === 0
          ? `No cycle of ${agent} has clustered failures yet.`
          : null;
  return (
    <div>
      <label for="f-cluster">Cluster</label>
      <select
        id="f-cluster"
        name="cluster"
        defaultValue={value ?? ''}
        key={`${agent ?? ''}:${choices.length}`}
        {...(hint ? { 'aria-describedby': 'f-cluster-hint' } : {})}
      >
        <option value="">Any cluster</option>
        {choices.map((c) => (
          <option key={c.value} value={c.value}>
            {c.label}
          </option>
        ))}
      </select>
      {hint && (
        <p id="f-cluster-hint" class="hint">
          {hint}
        </p>
      )}
    </div>
  );
}

/**
 * Traces by the coaching they applied: some, none, or one of the chosen agent's coaching (any
 * of its versions); the address's value stays a choice when the list does not hold it.
 */
function CoachingPicker({ agent, value }: { agent: string | undefined; value: string | undefined }) {
  const list = useCoachingList(agent);
  const named = list.data ?? [];
  const extra = value && !(value in COACHING_APPLIED) && !named.some((c) => c.id === value) ? [value] : [];
  const hint = !agent
    ? 'Choose an agent to pick one of its coaching.'
    : list.isError
      ? `Could not load the coaching: ${list.error.message}`
      : null;
  return (
    <div>
      <label for="f-coaching">Coaching applied</label>
      <select
        id="f-coaching"
        name="coaching"
        defaultValue={value ?? ''}
        key={`${agent ?? ''}:${named.length}`}
        {...(hint ? { 'aria-describedby': 'f-coaching-hint' } : {})}
      >
        <option value="">Any trace</option>
        {Object.entries(COACHING_APPLIED).map(([v, label]) => (
          <option key={v} value={v}>
            {label}
          </option>
        ))}
        {extra.map((id) => (
          <option key={id} value={id}>
            {id}
          </option>
        ))}
        {named.map((c) => (
          <option key={c.id} value={c.id}>
            {c.id}: {c.situation.length > 60 ? `${c.situation.slice(0, 59)}…` : c.situation}
            {c.status === 'active' ? '' : ` (${c.status})`}
          </option>
        ))}
      </select>
      {hint && (
        <p id="f-coaching-hint" class="hint">
          {hint}
        </p>
      )}
    </div>
  );
}

function Choice({
  id,
  name,
  label,
  values,
  value,
}: {
  id: string;
  name: string;
  label: string;
  values: readonly string[];
  value: string | undefined;
}) {
  return (
    <div>
      <label for={id}>{label}</label>
      <select id={id} name={name} defaultValue={value ?? ''}>
        <option value="">Any</option>
        {values.map((v) => (
          <option key={v} value={v}>
            {v}
          </option>
        ))}
      </select>
    </div>
  );
}

function Results({ filters, range }: { filters: TraceFilters; range: TimeRange | undefined }) {
  const search = useTraceSearch(filters);
  const me = useMe();
  const [selected, setSelected] = useState<ReadonlySet<string>>(new Set());
  const agent = filters.agent;
  const canAdd = agent !== undefined && holds(me.grants, 'reviewer', agent);
  const toggle = (id: string, on: boolean) =>
    setSelected((s) => {
      const next = new Set(s);
      if (on) next.add(id);
      else next.delete(id);
      return next;
    });
  return (
    <section aria-labelledby="results">
      <h2 id="results" tabIndex={-1}>
        Results
      </h2>
      <QueryState query={search} what="traces">
        {(data) => {
          const traces = data.pages.flatMap((p) => p.traces);
          if (traces.length === 0) return <p role="status">No trace matches these filters.</p>;
          const allSelected = traces.every((t) => selected.has(t.id));
          return (
            <>
              <p class="muted" role="status">
                {traces.length} trace{traces.length === 1 ? '' : 's'}
                {range && filters.from ? (
                  <>
                    {' '}
                    in the {TIME_RANGES[range].label.toLowerCase()} (since <Time iso={filters.from} />)
                  </>
                ) : (
                  ''
                )}
                {search.hasNextPage ? ', older ones on demand' : ''}.
              </p>
              {canAdd ? (
                <AddSelected
                  agent={agent}
                  selected={traces.filter((t) => selected.has(t.id)).map((t) => t.id)}
                  onAdded={(ids) => setSelected((s) => new Set([...s].filter((id) => !ids.includes(id))))}
                />
              ) : null}
              <table class="traces">
                <caption class="visually-hidden">Traces, newest first</caption>
                <thead>
                  <tr>
                    {canAdd && (
                      <th scope="col">
                        <input
                          type="checkbox"
                          aria-label="Select every trace shown"
                          checked={allSelected}
                          onChange={(e) =>
                            setSelected(
                              e.currentTarget.checked ? new Set(traces.map((t) => t.id)) : new Set(),
                            )
                          }
                        />
                      </th>
                    )}
                    <th scope="col">Trace</th>
                    <th scope="col">Started</th>
                    <th scope="col">Agent</th>
                    <th scope="col">Status</th>
                    <th scope="col">Outcome</th>
                    <th scope="col">Feedback</th>
                    <th scope="col">Version</th>
                    <th scope="col">Input</th>
                    <th scope="col">Step taken</th>
                    <th scope="col">Latency</th>
                  </tr>
                </thead>
                <tbody>
                  {traces.map((t) => (
                    <tr key={t.id} class={selected.has(t.id) ? 'current-row' : undefined}>
                      {canAdd && (
                        <td>
                          <input
                            type="checkbox"
                            aria-label={`Select trace ${t.id}`}
                            checked={selected.has(t.id)}
                            onChange={(e) => toggle(t.id, e.currentTarget.checked)}
                          />
                        </td>
                      )}
                      <td class="trace-id">
                        <Link href={paths.trace(t.id)}>
                          <code>{t.id}</code>
                        </Link>
                      </td>
                      <td>
                        <Time iso={t.timestamp} />
                      </td>
                      <td>{t.agent}</td>
                      <td>
                        <span class={`badge ${t.status === 'error' ? 'bad' : 'good'}`}>{t.status}</span>
                      </td>
                      <td>{t.outcome ?? '—'}</td>
                      <td>{feedbackText(t.feedback)}</td>
                      <td>{t.promptVersion === undefined ? '—' : `v${t.promptVersion}`}</td>
                      <td class="preview">{t.input}</td>
                      <td class="preview">
                        <code>{t.output.action === 'respond' ? 'reply' : t.output.action}</code>{' '}
                        {t.output.action === 'respond' ? t.output.preview : ''}
                      </td>
                      <td>{t.latencyMs === undefined ? '—' : `${Math.round(t.latencyMs)} ms`}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
              {search.hasNextPage && (
                <button
                  type="button"
                  class="secondary"
                  onClick={() => void search.fetchNextPage()}
                  disabled={search.isFetchingNextPage}
                >
                  {search.isFetchingNextPage ? 'Loading…' : 'Show older traces'}
                </button>
              )}
            </>
          );
        }}
      </QueryState>
    </section>
  );
}

/**
 * "Add to queue" for the selected traces: one request for all of them; the ones the queue
 * refused (already in it, say) are listed with the reason and stay selected.
 */
function AddSelected({
  agent,
  selected,
  onAdded,
}: {
  agent: string;
  selected: string[];
  onAdded: (ids: string[]) => void;
}) {
  const queues = useOpenQueues(agent, true);
  const add = useAddManyToQueue();
  const [chosen, setChosen] = useState('');
  const outcome = useRef<HTMLDivElement>(null);
  const choices = queues.data ?? [];
  const queueId = chosen || choices[0]?.id;
  const onSubmit = (event: JSX.TargetedSubmitEvent<HTMLFormElement>) => {
    event.preventDefault();
    if (!queueId || selected.length === 0) return;
    add.mutate(
      { queueId, traceIds: selected },
      {
        onSuccess: (result) => {
          onAdded(result.added.map((a) => a.traceId));
          outcome.current?.focus();
        },
        onError: () => outcome.current?.focus(),
      },
    );
  };
  return (
    <section aria-labelledby="add-selected" class="panel">
      <h3 id="add-selected" class="small">
        Add the selected traces to an annotation queue
      </h3>
      <QueryState query={queues} what="open queues">
        {() =>
          choices.length === 0 ? (
            <p class="muted">
              No open queue of agent {agent} takes traces: a cycle opens one when it needs labels.
            </p>
          ) : (
            <form class="toolbar" onSubmit={onSubmit}>
              <label for="bulk-queue" class="inline">
                Queue
              </label>
              <select
                id="bulk-queue"
                value={queueId}
                onChange={(e) => setChosen(e.currentTarget.value)}
                class="auto"
              >
                {choices.map((q) => (
                  <option key={q.id} value={q.id}>
                    {q.name} ({q.items} items)
                  </option>
                ))}
              </select>
              <button type="submit" disabled={add.isPending || selected.length === 0}>
                {add.isPending
                  ? 'Adding…'
                  : `Add ${selected.length} selected trace${selected.length === 1 ? '' : 's'} to queue`}
              </button>
            </form>
          )
        }
      </QueryState>
      <div ref={outcome} tabIndex={-1}>
        {add.isSuccess && (
          <p class="notice" role="status">
            Added {add.data.added.length} trace{add.data.added.length === 1 ? '' : 's'} to {add.data.queueId}.{' '}
            <Link href={paths.queue(add.data.queueId)}>Open the queue</Link>
          </p>
        )}
        {add.isSuccess && add.data.errors.length > 0 && (
          <div class="error" role="alert">
            <p>{add.data.errors.length} not added (still selected):</p>
            <ul class="plain">
              {add.data.errors.map((e) => (
                <li key={e.index}>
                  <code>{e.traceId ?? `#${e.index + 1}`}</code>: {e.error}
                </li>
              ))}
            </ul>
          </div>
        )}
        {add.isError && (
          <p class="error" role="alert">
            Not added: {add.error.message}
          </p>
        )}
      </div>
    </section>
  );
}
