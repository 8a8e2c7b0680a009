import { useEffect, useRef, useState } from 'preact/hooks';
import { openFor, useQueue, useQueueItems, useSuggestionAhead } from '../api/queries.js';
import type { QueueDetails, QueueItemSummary } from '../api/types.js';
import { QueryState, Time } from '../components/query-state.js';
import { Shortcuts } from '../components/shortcuts.js';
import { isTyping, singleKeyShortcutsOn } from '../keyboard.js';
import { Link, navigate, paths, useLocation } from '../router.js';
import { holds, useMe } from '../session.js';

/** One queue: progress per reviewer, agreement, and its items (j/k to move, Enter to open). */
export function QueuePage({ queueId }: { queueId: string }) {
  const details = useQueue(queueId);
  return (
    <QueryState query={details} what="the queue">
      {(d) => <QueueView details={d} />}
    </QueryState>
  );
}

function QueueView({ details }: { details: QueueDetails }) {
  const me = useMe();
  const { queue, progress } = details;
  const reviewer = holds(me.grants, 'reviewer', queue.agent);
  const [mineOnly, setMineOnly] = useState(reviewer);
  const items = useQueueItems(queue.id, mineOnly ? me.user : undefined);
  const mine = items.data ? openFor(items.data, me.user) : [];
  // "Start labelling" opens mine[0]: its suggested label is asked for ahead, as on the home page.
  useSuggestionAhead(mine[0], reviewer && queue.status === 'open');
  const tableRef = useRef<HTMLTableElement>(null);
  // Set by the item page after the reviewer's last open item: say so instead of a blank next page.
  const done = new URLSearchParams(useLocation().split('?')[1] ?? '').get('done');

  // j/k move between the item links, Enter follows the focused one (the browser does that).
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if (isTyping(event) || event.ctrlKey || event.metaKey || event.altKey || !singleKeyShortcutsOn())
        return;
      if (event.key !== 'j' && event.key !== 'k') return;
      const links = [...(tableRef.current?.querySelectorAll<HTMLAnchorElement>('a.item-link') ?? [])];
      if (links.length === 0) return;
      const at = links.indexOf(document.activeElement as HTMLAnchorElement);
      const next = event.key === 'j' ? Math.min(at + 1, links.length - 1) : Math.max(at - 1, 0);
      links[at < 0 ? 0 : next]?.focus();
      event.preventDefault();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);

  return (
    <>
      {/* Focus lands on the heading after the last label: it carries the thank-you, which a
          status inserted with the page is not reliably announced as. */}
      <h1 tabIndex={-1} aria-describedby={done ? 'queue-done' : undefined}>
        {queue.name}
      </h1>
      {done && (
        <p id="queue-done" class="notice" role="status">
          {done === 'queue'
            ? 'Thank you: your label completed this queue, and the cycle goes on with the labels.'
            : 'Thank you: you have labelled every item open for you in this queue.'}
        </p>
      )}
      <p class="muted">
        Agent <strong>{queue.agent}</strong> · cycle <code>{queue.cycleId}</code> · {queue.reviewersPerItem}{' '}
        review{queue.reviewersPerItem === 1 ? '' : 's'} per item · a claim lasts{' '}
        {Math.round(queue.claimSeconds / 60)} min · status <strong>{queue.status}</strong>
      </p>
      <section aria-labelledby="progress">
        <h2 id="progress">Progress</h2>
        <p>
          <progress max={progress.total} value={progress.complete} aria-label="Items complete" />{' '}
          {progress.complete} of {progress.total} complete, {progress.inProgress} in progress,{' '}
          {progress.pending} pending · quorum {Math.round(progress.quorum * 100)}%{' '}
          {progress.quorumReached ? '(reached)' : ''}
        </p>
        {progress.byReviewer.length > 0 && (
          <table>
            <caption class="visually-hidden">Progress per reviewer</caption>
            <thead>
              <tr>
                <th scope="col">Reviewer</th>
                <th scope="col">Assigned</th>
                <th scope="col">Labelled</th>
                <th scope="col">Claimed now</th>
                <th scope="col">Open</th>
                <th scope="col">Took the suggestion</th>
              </tr>
            </thead>
            <tbody>
              {progress.byReviewer.map((r) => (
                <tr key={r.reviewer}>
                  <th scope="row">{r.reviewer}</th>
                  <td>{r.assigned}</td>
                  <td>{r.completed}</td>
                  <td>{r.claimed}</td>
                  <td>{r.open}</td>
                  <td>{tookSuggestion(details.suggestions.byReviewer[r.reviewer])}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        {details.suggestions.labelled > 0 && (
          <p>
            Labels equal to the teacher model's suggestion: {details.suggestions.taken} of{' '}
            {details.suggestions.labelled} labels on items with a suggestion. A queue that takes nearly every
            suggestion may be trusting the model more than the conversations.
          </p>
        )}
        {details.agreement.verdict.items > 0 && (
          <p>
            Agreement on the verdict: {formatAgreement(details.agreement.verdict)} over{' '}
            {details.agreement.verdict.items} items labelled by several reviewers.
          </p>
        )}
      </section>
      <section aria-labelledby="items">
        <h2 id="items">Items</h2>
        <div class="toolbar">
          {reviewer && queue.status === 'open' && mine[0] && (
            <button type="button" onClick={() => navigate(paths.item(queue.id, mine[0]!.id))}>
              Start labelling ({mine.length} open for you)
            </button>
          )}
          {reviewer && (
            <label class="inline">
              <input
                type="checkbox"
                checked={mineOnly}
                onChange={(e) => setMineOnly(e.currentTarget.checked)}
              />{' '}
              Only items for me
            </label>
          )}
        </div>
        <Shortcuts
          label="Queue shortcuts"
          keys={[
            ['j / k', 'next / previous item'],
            ['Enter', 'open the item'],
          ]}
        />
        <QueryState query={items} what="items">
          {(list) => <ItemsTable items={list} queueId={queue.id} tableRef={tableRef} />}
        </QueryState>
      </section>
    </>
  );
}

function ItemsTable({
  items,
  queueId,
  tableRef,
}: {
  items: QueueItemSummary[];
  queueId: string;
  tableRef: { current: HTMLTableElement | null };
}) {
  if (items.length === 0) return <p>No items here.</p>;
  return (
    <table ref={tableRef}>
      <thead>
        <tr>
          <th scope="col">Item</th>
          <th scope="col">Conversation</th>
          <th scope="col">Status</th>
          <th scope="col">Judge's verdict</th>
          <th scope="col">Judge's category</th>
          <th scope="col">Reviewers' verdict</th>
          <th scope="col">Labelled by</th>
          <th scope="col">Claimed by</th>
        </tr>
      </thead>
      <tbody>
        {items.map((item) => (
          <tr key={item.id}>
            <td>
              <Link class="item-link" href={paths.item(queueId, item.id)}>
                <code>{item.traceId}</code>
              </Link>
            </td>
            <td class="preview">
              {item.preview ?? <span class="muted">—</span>}
              {item.action && <span class="muted"> → {item.action}</span>}
            </td>
            <td>{item.status.replace('_', ' ')}</td>
            <td>
              <span
                class={`badge ${item.verdict === 'pass' ? 'good' : item.verdict === 'fail' ? 'bad' : 'neutral'}`}
              >
                {item.verdict.replace('_', ' ')}
              </span>
            </td>
            <td>{item.category?.replace(/_/g, ' ') ?? '—'}</td>
            <td>
              {item.reviewerVerdict ? (
                <span class={`badge ${item.reviewerVerdict === 'pass' ? 'good' : 'bad'}`}>
                  {item.reviewerVerdict}
                  {item.split ? ' (split)' : ''}
                </span>
              ) : (
                <span class="muted">not labelled</span>
              )}
            </td>
            <td>{item.labelledBy?.join(', ') || '—'}</td>
            <td>
              {item.claims?.map((c) => (
                <span key={c.reviewer}>
                  {c.reviewer} until <Time iso={c.expiresAt} />{' '}
                </span>
              ))}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** A reviewer's labels equal to the item's suggestion, of their labels on items with one. */
function tookSuggestion(counts: { labelled: number; taken: number } | undefined): string {
  return counts ? `${counts.taken} of ${counts.labelled}` : '—';
}

function formatAgreement(report: QueueDetails['agreement']['verdict']): string {
  const parts = [
    report.percentAgreement === null ? null : `${Math.round(report.percentAgreement * 100)}% of pairs agree`,
    report.fleissKappa === null ? null : `Fleiss' κ ${report.fleissKappa.toFixed(2)}`,
    report.krippendorffAlpha === null ? null : `Krippendorff's α ${report.krippendorffAlpha.toFixed(2)}`,
  ].filter((p) => p !== null);
  return parts.join(', ') || 'not enough labels yet';
}
