import { behaviourSummary, thresholdText } from '../api/coaching-figures.js';
import { COACHING_STATUSES, useCoachingList, type CoachingStatus } from '../api/coaching-queries.js';
import { QueryState, Time } from '../components/query-state.js';
import { Link, navigate, paths, useLocation } from '../router.js';
import { Breadcrumbs } from '../components/breadcrumbs.js';

export const statusBadge = (status: CoachingStatus) => (status === 'active' ? 'good' : 'neutral');

/**
 * An agent's coaching memories at their current version: status, situation, what the agent
 * should do there, the recall threshold (and the author's when marks moved it), version and
 * author; the status filter lives in the address (`?status=candidate`).
 */
export function CoachingListPage({ agentId }: { agentId: string }) {
  const asked = new URLSearchParams(useLocation().split('?')[1] ?? '').get('status');
  const status = COACHING_STATUSES.find((s) => s === asked);
  const list = useCoachingList(agentId, status);
  return (
    <>
      <Breadcrumbs>
        <Link href={paths.home()}>Home</Link> › <Link href={paths.agent(agentId)}>Agent dashboard</Link> ›
        Coaching
      </Breadcrumbs>
      <h1 tabIndex={-1}>
        Coaching: <code>{agentId}</code>
      </h1>
      <p>
        Situation-scoped corrections the agent recalls in similar conversations. Write one with “Provide
        coaching” on a step of a trace.
      </p>
      <p class="toolbar">
        <label class="inline" for="coaching-status">
          Status
        </label>
        <select
          id="coaching-status"
          class="auto"
          value={status ?? ''}
          onChange={(e) => {
            const value = e.currentTarget.value;
            navigate(
              `${paths.agentCoaching(agentId)}${value ? `?status=${encodeURIComponent(value)}` : ''}`,
              { replace: true },
            );
          }}
        >
          <option value="">Every status</option>
          {COACHING_STATUSES.map((s) => (
            <option key={s} value={s}>
              {s}
            </option>
          ))}
        </select>
      </p>
      <QueryState query={list} what="the coaching">
        {(coaching) =>
          coaching.length === 0 ? (
            <p role="status">
              {status ? `No ${status} coaching for ${agentId}.` : `${agentId} has no coaching yet.`}
            </p>
          ) : (
            <>
              <p class="muted" role="status">
                {coaching.length} coaching{status ? ` (${status})` : ''}, oldest first.
              </p>
              <table>
                <caption class="visually-hidden">Coaching of {agentId}, oldest first</caption>
                <thead>
                  <tr>
                    <th scope="col">Coaching</th>
                    <th scope="col">Status</th>
                    <th scope="col">Situation</th>
                    <th scope="col">Behaviour</th>
                    <th scope="col">Threshold</th>
                    <th scope="col">Version</th>
                    <th scope="col">Author</th>
                    <th scope="col">Changed</th>
                  </tr>
                </thead>
                <tbody>
                  {coaching.map((c) => (
                    <tr key={c.id}>
                      <th scope="row">
                        <Link href={paths.coaching(agentId, c.id)}>
                          <code>{c.id}</code>
                        </Link>
                      </th>
                      <td>
                        <span class={`badge ${statusBadge(c.status)}`}>{c.status}</span>
                      </td>
                      <td>{c.situation}</td>
                      <td class="preview">{behaviourSummary(c.behaviour)}</td>
                      <td>{thresholdText(c)}</td>
                      <td>v{c.version}</td>
                      <td>{c.author}</td>
                      <td>
                        <Time iso={c.changedAt} />
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </>
          )
        }
      </QueryState>
    </>
  );
}
