import type { JSX } from 'preact';
import { useAgents } from '../api/queries.js';
import {
  FEEDBACK,
  filtersOf,
  OUTCOMES,
  searchOf,
  STATUSES,
  type TraceFilters,
} from '../api/trace-filters.js';
import { useTraceSearch, type TraceListItem } from '../api/trace-queries.js';
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

/** Trace search: filters in the address (shareable), results newest first, older pages on demand. */
export function TracesPage() {
  const me = useMe();
  const search = useLocation().split('?')[1] ?? '';
  const filters = filtersOf(search);
  const agents = useAgents();
  // Listing every agent's traces needs a global role; a person with roles for some agents
  // searches one of them at a time.
  const global = holds(me.grants, 'viewer', null);
  const ownAgents = [...new Set(me.grants.map((g) => g.agent).filter((a): a is string => a !== null))].sort();
  const agentChoices = global ? (agents.data?.map((a) => a.id) ?? []) : ownAgents;
  const effective: TraceFilters =
    !global && !filters.agent && ownAgents[0] ? { ...filters, agent: ownAgents[0] } : filters;

  const onSubmit = (event: JSX.TargetedSubmitEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const text = (name: string) => {
      const v = form.get(name);
      return typeof v === 'string' ? v : '';
    };
    const next: Record<string, string> = {
      agent: text('agent'),
      from: isoOf(text('from')),
      to: isoOf(text('to')),
      status: text('status'),
      outcome: text('outcome'),
      feedback: text('feedback'),
      cluster: text('cluster'),
      promptName: text('promptName'),
      promptVersion: text('promptVersion'),
      q: text('q'),
    };
    navigate(paths.traces() + searchOf(filtersOf(new URLSearchParams(next).toString())));
  };

  return (
    <>
      <h1 tabIndex={-1}>Traces</h1>
      <form class="filters" role="search" aria-label="Filter traces" key={search} onSubmit={onSubmit}>
        <div>
          <label for="f-agent">Agent</label>
          <select id="f-agent" name="agent" defaultValue={effective.agent ?? ''}>
            {global && <option value="">All agents</option>}
            {agentChoices.map((a) => (
              <option key={a} value={a}>
                {a}
              </option>
            ))}
          </select>
        </div>
        <div>
          <label for="f-from">From</label>
          <input id="f-from" name="from" type="datetime-local" defaultValue={localInput(filters.from)} />
        </div>
        <div>
          <label for="f-to">To</label>
          <input id="f-to" name="to" type="datetime-local" defaultValue={localInput(filters.to)} />
        </div>
        <Choice id="f-status" name="status" label="Status" values={STATUSES} value={filters.status} />
        <Choice id="f-outcome" name="outcome" label="Outcome" values={OUTCOMES} value={filters.outcome} />
        <Choice id="f-feedback" name="feedback" label="Feedback" values={FEEDBACK} value={filters.feedback} />
        <div>
          <label for="f-cluster">Cluster</label>
          <input
            id="f-cluster"
            name="cluster"
            defaultValue={filters.cluster ?? ''}
            placeholder="cluster or stable id"
          />
        </div>
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
          {search && <Link href={paths.traces()}>Clear filters</Link>}
        </div>
      </form>
      <Results filters={effective} />
    </>
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

function Results({ filters }: { filters: TraceFilters }) {
  const search = useTraceSearch(filters);
  return (
    <section aria-labelledby="results">
      <h2 id="results">Results</h2>
      <QueryState query={search} what="traces">
        {(data) => {
          const traces = data.pages.flatMap((p) => p.traces);
          if (traces.length === 0) return <p role="status">No trace matches these filters.</p>;
          return (
            <>
              <p class="muted" role="status">
                {traces.length} trace{traces.length === 1 ? '' : 's'}
                {search.hasNextPage ? ' shown, older ones on demand' : ''}.
              </p>
              <table class="traces">
                <caption class="visually-hidden">Traces, newest first</caption>
                <thead>
                  <tr>
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
                    <tr key={t.id}>
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
