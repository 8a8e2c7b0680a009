import { useQueries } from '@tanstack/react-query';
import { answer, api } from '../api/client.js';
import { openFor, useSuggestionAhead, useAgents, useCycles, useQueues } from '../api/queries.js';
import type { CycleSummary, QueueItemSummary } from '../api/types.js';
import { QueryState, Time } from '../components/query-state.js';
import { Link, paths } from '../router.js';
import { holds, holdsAnywhere, useMe } from '../session.js';
import { OutcomeBadge } from '../components/outcome-badge.js';

/** The home page: what is waiting for the signed-in person, by role, and how each agent is doing. */
export function HomePage() {
  const me = useMe();
  const reviewer = holdsAnywhere(me.grants, 'reviewer');
  const approver = holdsAnywhere(me.grants, 'approver');
  return (
    <>
      <h1 tabIndex={-1}>Home</h1>
      {reviewer && <MyQueueItems />}
      <CycleLists approver={approver} />
      <Agents />
    </>
  );
}

function MyQueueItems() {
  const me = useMe();
  const queues = useQueues();
  const open = (queues.data ?? []).filter((q) => q.status === 'open');
  // One items request per open queue, filtered to what the queue assigns to this reviewer.
  const items = useQueries({
    queries: open.map((q) => ({
      queryKey: ['queue', q.id, 'items', me.user],
      queryFn: async () =>
        (
          await answer<{ items: QueueItemSummary[] }>(
            api.GET('/api/queues/{id}/item-summaries', {
              params: { path: { id: q.id }, query: { reviewer: me.user } },
            }),
          )
        ).items,
    })),
  });
  // The first "Label" button's item: its suggested label is asked for ahead.
  const first = open
    .map((_, i) => (items[i]?.data ? openFor(items[i].data, me.user)[0] : undefined))
    .find((item) => item !== undefined);
  useSuggestionAhead(first, true);
  return (
    <section aria-labelledby="my-items">
      <h2 id="my-items">My open queue items</h2>
      <QueryState query={queues} what="annotation queues">
        {() => {
          const rows = open
            .map((q, i) => ({ queue: q, mine: items[i]?.data ? openFor(items[i].data, me.user) : null }))
            .filter((r) => r.mine === null || r.mine.length > 0);
          if (rows.length === 0) return <p>Nothing to label: every open queue has your labels.</p>;
          return (
            <table>
              <thead>
                <tr>
                  <th scope="col">Queue</th>
                  <th scope="col">Agent</th>
                  <th scope="col">Open for you</th>
                  <th scope="col">Complete</th>
                  <th scope="col">
                    <span class="visually-hidden">Action</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {rows.map(({ queue, mine }) => (
                  <tr key={queue.id}>
                    <td>
                      <Link href={paths.queue(queue.id)}>{queue.name}</Link>
                    </td>
                    <td>{queue.agent_id}</td>
                    <td>{mine === null ? '…' : mine.length}</td>
                    <td>
                      {queue.complete} of {queue.items}
                    </td>
                    <td>
                      {mine?.[0] && (
                        <Link class="button" href={paths.item(queue.id, mine[0].id)}>
                          Label {queue.name}
                        </Link>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          );
        }}
      </QueryState>
    </section>
  );
}

function CycleTable({ cycles, empty }: { cycles: CycleSummary[]; empty: string }) {
  if (cycles.length === 0) return <p>{empty}</p>;
  return (
    <table>
      <thead>
        <tr>
          <th scope="col">Cycle</th>
          <th scope="col">Agent</th>
          <th scope="col">Stage</th>
          <th scope="col">Started</th>
        </tr>
      </thead>
      <tbody>
        {cycles.map((c) => (
          <tr key={c.cycleId}>
            <td>
              <Link href={paths.cycle(c.cycleId)}>
                <code>{c.cycleId}</code>
              </Link>
            </td>
            <td>{c.agent ?? '—'}</td>
            <td>{stageName(c.stage)}</td>
            <td>
              <Time iso={c.startTime} />
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function CycleLists({ approver }: { approver: boolean }) {
  const me = useMe();
  const cycles = useCycles();
  return (
    <>
      <section aria-labelledby="approvals">
        <h2 id="approvals">{approver ? 'Cycles waiting for my approval' : 'Cycles waiting for approval'}</h2>
        <QueryState query={cycles} what="cycles">
          {(all) => (
            <CycleTable
              cycles={all.filter(
                (c) =>
                  c.status === 'RUNNING' &&
                  c.stage === 'awaiting_approval' &&
                  (!approver || holds(me.grants, 'approver', c.agent)),
              )}
              empty="No cycle is waiting for an approval."
            />
          )}
        </QueryState>
      </section>
      <section aria-labelledby="rollouts">
        <h2 id="rollouts">Running rollouts</h2>
        <QueryState query={cycles} what="cycles">
          {(all) => (
            <CycleTable
              cycles={all.filter((c) => c.status === 'RUNNING' && c.stage === 'rolling_out')}
              empty="No rollout is running."
            />
          )}
        </QueryState>
      </section>
    </>
  );
}

function Agents() {
  const agents = useAgents();
  return (
    <section aria-labelledby="agents">
      <h2 id="agents">Agents</h2>
      <QueryState query={agents} what="agents">
        {(list) =>
          list.length === 0 ? (
            <p>No agent you hold a role for.</p>
          ) : (
            <table>
              <thead>
                <tr>
                  <th scope="col">Agent</th>
                  <th scope="col">Traces (7 days)</th>
                  <th scope="col">Last cycle</th>
                  <th scope="col">Stage</th>
                  <th scope="col">Outcome</th>
                </tr>
              </thead>
              <tbody>
                {list.map((a) => (
                  <tr key={a.id}>
                    <th scope="row">
                      <Link href={paths.agent(a.id)}>{a.displayName || a.id}</Link>
                    </th>
                    <td>
                      {a.traces.last7Days.exact ? '' : '≈ '}
                      {a.traces.last7Days.count.toLocaleString()}
                    </td>
                    <td>
                      {a.lastCycle ? (
                        <Link href={paths.cycle(a.lastCycle.cycleId)}>
                          <code>{a.lastCycle.cycleId}</code>
                        </Link>
                      ) : (
                        'none yet'
                      )}
                    </td>
                    <td>{a.lastCycle ? stageName(a.lastCycle.stage) : '—'}</td>
                    <td>{a.lastCycle ? <OutcomeBadge outcome={a.lastCycle.outcome} /> : '—'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )
        }
      </QueryState>
    </section>
  );
}

export const stageName = (stage: string | undefined) => (stage ? stage.replace(/_/g, ' ') : '—');
