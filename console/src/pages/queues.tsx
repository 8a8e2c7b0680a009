import { useQueues } from '../api/queries.js';
import { QueryState, Time } from '../components/query-state.js';
import { Link, paths } from '../router.js';

/** Every annotation queue the person may see, newest first, with its progress. */
export function QueuesPage() {
  const queues = useQueues();
  return (
    <>
      <h1 tabIndex={-1}>Annotation queues</h1>
      <QueryState query={queues} what="annotation queues">
        {(list) =>
          list.length === 0 ? (
            <p>No annotation queue yet: a cycle opens one when it needs human labels.</p>
          ) : (
            <table>
              <thead>
                <tr>
                  <th scope="col">Queue</th>
                  <th scope="col">Agent</th>
                  <th scope="col">Status</th>
                  <th scope="col">Complete</th>
                  <th scope="col">Reviews per item</th>
                  <th scope="col">Created</th>
                </tr>
              </thead>
              <tbody>
                {list.map((q) => (
                  <tr key={q.id}>
                    <td>
                      <Link href={paths.queue(q.id)}>{q.name}</Link>
                    </td>
                    <td>{q.agent_id}</td>
                    <td>
                      <span class={`badge ${q.status === 'open' ? 'neutral' : 'good'}`}>{q.status}</span>
                    </td>
                    <td>
                      <progress max={q.items} value={q.complete} aria-label={`${q.name} progress`} />{' '}
                      {q.complete} of {q.items}
                    </td>
                    <td>{q.reviewers_per_item}</td>
                    <td>
                      <Time iso={q.created_at} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )
        }
      </QueryState>
    </>
  );
}
