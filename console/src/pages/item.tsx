import { useEffect, useLayoutEffect, useMemo, useRef, useState } from 'preact/hooks';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { answer, api, ApiError } from '../api/client.js';
import {
  openFor,
  useSuggestionAhead,
  useLabelSuggestion,
  useQueue,
  useQueueItem,
  useQueueItems,
  useTrace,
} from '../api/queries.js';
import { argumentLines, sampledAction, sampledMessages, toolNames } from '../api/sampled-trace.js';
import type {
  Claim,
  LabelBody,
  QueueDetails,
  QueueItem,
  QueueItemSummary,
  StoredLabel,
} from '../api/types.js';
import { plainExplanation, plainFinding } from '../api/explanation.js';
import {
  draftFor,
  draftFromLabel,
  draftProblem,
  draftWithSuggestion,
  labelBody,
  type DraftProblem,
  type LabelDraft,
} from '../api/label-draft.js';
import { LabelForm, type FieldError } from '../components/label-form.js';
import { LabelSuggestionView } from '../components/label-suggestion.js';
import { ClaimStatus, YourLabel } from '../components/label-status.js';
import { QueryState } from '../components/query-state.js';
import { Shortcuts } from '../components/shortcuts.js';
import { SpanTreeView } from '../components/span-tree.js';
import { Transcript } from '../components/transcript.js';
import { isTyping, singleKeyShortcutsOn } from '../keyboard.js';
import { Link, navigate, paths } from '../router.js';
import { holds, useMe } from '../session.js';
import { Breadcrumbs } from '../components/breadcrumbs.js';

const SHORTCUTS = [
  ['a', 'use the suggested label'],
  ['p / f', 'verdict pass / fail'],
  ['c', 'failure category'],
  ['e', 'what the agent should have done'],
  ['r / t', 'the agent should have replied / called a tool'],
  ['m', 'comment'],
  ['Ctrl + Enter', 'submit and open the next item'],
  ['j / k', 'next / previous item'],
  ['Esc', 'leave a field (shortcuts work again)'],
] as const;

/** One annotation item: the transcript and the judge's view on the left, the label on the right. */
export function ItemPage({ queueId, itemId }: { queueId: string; itemId: string }) {
  const me = useMe();
  const details = useQueue(queueId);
  const reviewer = details.data ? holds(me.grants, 'reviewer', details.data.queue.agent) : false;
  // A reviewer moves through the items the queue gives them; anyone else through all of them.
  const items = useQueueItems(queueId, reviewer ? me.user : undefined);
  // Outlives the item it speaks of: the page moves to the next item as the label is saved.
  const [saved, setSaved] = useState<string | null>(null);
  return (
    <>
      <p role="status" class="saved-notice">
        {saved}
      </p>
      <QueryState query={details} what="the queue">
        {(d) => (
          <QueryState query={items} what="the queue's items">
            {(list) => {
              const item = list.find((i) => i.id === itemId);
              if (!item)
                return (
                  <>
                    <h1 tabIndex={-1}>Item not found</h1>
                    <p>
                      Item <code>{itemId}</code> is not in this queue{reviewer ? ' for you' : ''}.{' '}
                      <Link href={paths.queue(queueId)}>Back to the queue</Link>
                    </p>
                  </>
                );
              return (
                <FullItem
                  key={item.id}
                  details={d}
                  itemId={item.id}
                  items={list}
                  canLabel={reviewer}
                  onSaved={setSaved}
                />
              );
            }}
          </QueryState>
        )}
      </QueryState>
    </>
  );
}

/** The list carries no traces: the opened item is loaded in full, with its redacted trace. */
function FullItem({
  details,
  itemId,
  items,
  canLabel,
  onSaved,
}: {
  details: QueueDetails;
  itemId: string;
  items: QueueItemSummary[];
  canLabel: boolean;
  onSaved: (notice: string | null) => void;
}) {
  const item = useQueueItem(details.queue.id, itemId);
  return (
    <QueryState query={item} what="the item">
      {(full) => (
        <ItemView details={details} item={full} items={items} canLabel={canLabel} onSaved={onSaved} />
      )}
    </QueryState>
  );
}

/** Seconds until `iso`, ticking once a second. */
function useSecondsLeft(iso: string | null): number | null {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!iso) return;
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [iso]);
  return iso ? Math.max(0, Math.round((Date.parse(iso) - now) / 1000)) : null;
}

function ItemView({
  details,
  item,
  items,
  canLabel,
  onSaved,
}: {
  details: QueueDetails;
  item: QueueItem;
  items: QueueItemSummary[];
  canLabel: boolean;
  onSaved: (notice: string | null) => void;
}) {
  const me = useMe();
  const queryClient = useQueryClient();
  const { queue } = details;
  const trace = useTrace(item.trace_id);
  const messages = useMemo(() => sampledMessages(item.input), [item.input]);
  const step = useMemo(() => sampledAction(item.output), [item.output]);
  const labelled = item.labelledBy.includes(me.user);
  // Changing one's own label, while the queue is open: it needs no claim (the label holds the slot).
  const [editing, setEditing] = useState(false);
  const firstLabel = canLabel && queue.status === 'open' && item.status !== 'complete' && !labelled;
  const labelling = firstLabel || editing;
  const [draft, setDraft] = useState<LabelDraft>(() => draftFor(item.judge_category));
  // What stopped the last submit, shown at its field while that field still needs it.
  const [problem, setProblem] = useState<DraftProblem | null>(null);
  const set = (patch: Partial<LabelDraft>) => setDraft((d) => ({ ...d, ...patch }));
  const refs = {
    category: useRef<HTMLSelectElement>(null),
    expected: useRef<HTMLInputElement>(null),
    reply: useRef<HTMLTextAreaElement>(null),
    tool: useRef<HTMLInputElement>(null),
    comment: useRef<HTMLTextAreaElement>(null),
  };
  const at = items.findIndex((i) => i.id === item.id);

  // Opening an item claims it: the slot is held for the queue's claim length, visibly.
  const existingClaim = item.claims.find((c) => c.reviewer === me.user)?.expiresAt ?? null;
  const [claimExpires, setClaimExpires] = useState<string | null>(existingClaim);
  const submitted = useRef(false);
  const claim = useMutation({
    mutationFn: () =>
      answer<Claim>(api.POST('/api/items/{id}/claim', { params: { path: { id: item.id } }, body: {} })),
    onSuccess: (c) => setClaimExpires(c.expiresAt),
  });
  useEffect(() => {
    if (firstLabel) claim.mutate();
    // Claimed and left without a label: give the slot back rather than hold it until expiry.
    return () => {
      if (firstLabel && !submitted.current)
        void api.POST('/api/items/{id}/release', { params: { path: { id: item.id } }, body: {} });
    };
  }, [item.id]);
  const secondsLeft = useSecondsLeft(claimExpires);
  const claimExpired = secondsLeft === 0;

  const open = openFor(items, me.user);
  const nextOpen = () =>
    open.find((i) => items.indexOf(i) > at && i.id !== item.id) ?? open.find((i) => i.id !== item.id);

  // The teacher's suggested label, while the reviewer labels an item the evaluators did not
  // pass (their pass is the suggestion there: another would only add reading). Asked once the
  // item has been open a moment, and the next such open item's once the reviewer has stayed a
  // while, so paging through items with j/k does not pile up model calls (each holds a
  // connection for up to 45 s) while a slow model still answers before the reviewer gets there.
  const suggesting = labelling && item.judge_label !== 'pass';
  const [settled, setSettled] = useState(false);
  useEffect(() => {
    if (!labelling) return;
    const ask = setTimeout(() => setSettled(true), 400);
    return () => clearTimeout(ask);
  }, [item.id, labelling]);
  useSuggestionAhead(nextOpen(), labelling);
  const suggestion = useLabelSuggestion(item.id, suggesting && settled);
  const [tookSuggestion, setTookSuggestion] = useState(false);

  const submit = useMutation({
    mutationFn: (body: LabelBody) =>
      answer<StoredLabel>(
        api.POST('/api/items/{id}/annotations', { params: { path: { id: item.id } }, body }),
      ),
    onSuccess: async (stored, body) => {
      submitted.current = true;
      const next = nextOpen();
      onSaved(
        `Saved: your ${editing ? 'changed ' : ''}${body.verdict} label on item ${at + 1} of ${items.length}${next ? '. Here is the next open item.' : '.'}`,
      );
      await queryClient.invalidateQueries({ queryKey: ['queue', queue.id] });
      await queryClient.invalidateQueries({ queryKey: ['queues'] });
      // The label that completes a queue moves its cycle on: the home page's cycle lists too.
      if (stored.queueCompleted) {
        await queryClient.invalidateQueries({ queryKey: ['cycles'] });
        await queryClient.invalidateQueries({ queryKey: ['agents'] });
      }
      if (next) navigate(paths.item(queue.id, next.id));
      else navigate(`${paths.queue(queue.id)}?done=${stored.queueCompleted ? 'queue' : 'mine'}`);
    },
  });

  const formDisabled = (!editing && (claim.isError || claimExpired)) || submit.isPending;
  const takeSuggestion = () => {
    const suggested = suggestion.data?.suggestion;
    if (!suggested || formDisabled) return;
    setDraft((d) => draftWithSuggestion(d, suggested));
    setTookSuggestion(true);
  };

  // Key presses and submit read the draft of the latest render, not of the render that
  // registered the listener: effects run after paint, a fast typist's keys come before.
  const latestDraft = useRef(draft);
  latestDraft.current = draft;
  const send = () => {
    onSaved(null);
    const found = draftProblem(latestDraft.current);
    setProblem(found);
    if (found) return;
    const body = labelBody(latestDraft.current);
    if (typeof body !== 'string') submit.mutate(body);
  };

  // A layout effect, listening as soon as the item is on the page: a plain effect waits for
  // the next frame, and a key pressed as the item appears (j, j, j) was lost.
  useLayoutEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
        if (labelling) {
          event.preventDefault();
          send();
        }
        return;
      }
      if (event.key === 'Escape' && isTyping(event)) {
        (event.target as HTMLElement).blur();
        return;
      }
      if (isTyping(event) || event.ctrlKey || event.metaKey || event.altKey || !singleKeyShortcutsOn())
        return;
      const go = (i: number) => {
        const target = items[i];
        if (target) navigate(paths.item(queue.id, target.id));
      };
      const actions: Record<string, () => void> = {
        j: () => go(at + 1),
        k: () => go(at - 1),
        ...(labelling
          ? {
              a: takeSuggestion,
              p: () => set({ verdict: 'pass' }),
              f: () => set({ verdict: 'fail' }),
              c: () => {
                set({ verdict: 'fail' });
                // The category field appears with the fail verdict: focus it once rendered.
                requestAnimationFrame(() => refs.category.current?.focus());
              },
              e: () => {
                set({ verdict: 'fail' });
                requestAnimationFrame(() => refs.expected.current?.focus());
              },
              // The field of the chosen kind appears once rendered: focus it then.
              r: () => {
                set({ verdict: 'fail', expected: 'reply' });
                requestAnimationFrame(() => refs.reply.current?.focus());
              },
              t: () => {
                set({ verdict: 'fail', expected: 'tool' });
                requestAnimationFrame(() => refs.tool.current?.focus());
              },
              m: () => refs.comment.current?.focus(),
            }
          : {}),
      };
      const action = actions[event.key];
      if (action) {
        event.preventDefault();
        action();
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  });

  // The agent's tools with what each takes, then any other the conversation shows.
  const tools = useMemo(() => {
    const declared = new Set(item.tools.map((t) => t.name));
    return [
      ...item.tools,
      ...toolNames(messages, step)
        .filter((name) => !declared.has(name))
        .map((name) => ({ name, takes: null })),
    ];
  }, [item.tools, messages, step]);
  // A fail with a tool step: start the expected call from what the agent did, to correct it.
  useEffect(() => {
    if (draft.expected === 'tool' && draft.tool === '' && step && step.action !== 'respond')
      set({
        tool: step.action,
        toolArguments: argumentLines(step.arguments ?? {}),
        prefilled: { tool: step.action, toolArguments: argumentLines(step.arguments ?? {}) },
      });
  }, [draft.expected]);

  // The judge's per-dimension scores of this cycle: the reviewer may label each as well.
  const dimensions = [
    ...new Map(
      (trace.data?.scores ?? [])
        .filter((x) => x.source === 'judge' && x.cycleId === queue.cycleId && /^[a-z_]+$/.test(x.dimension))
        .map((x) => [x.dimension, { name: x.dimension, judge: x.label }]),
    ).values(),
  ];
  const clusters = trace.data?.lineage.clusters.filter((c) => c.cycleId === queue.cycleId) ?? [];
  // The explanation is said once, in words; the step under review only names what was found.
  const explanation = item.judge_explanation ? plainExplanation(item.judge_explanation) : null;
  const finding = item.failing_finding ? plainFinding(item.failing_finding) : null;
  const failing =
    item.judge_label !== 'fail'
      ? null
      : !finding
        ? 'Flagged as failing.'
        : finding.detail === explanation
          ? `Found: ${finding.kind ?? 'a failure'} (explained above).`
          : `Found: ${finding.kind ? `${finding.kind}: ` : ''}${finding.detail}`;
  // A problem the API found with one field of the expected step is shown at that field.
  const apiFieldError: FieldError | null =
    submit.error instanceof ApiError &&
    (submit.error.field === 'expected.action' || submit.error.field === 'expected.arguments')
      ? { field: submit.error.field, message: submit.error.message }
      : null;
  const current = problem && draftProblem(draft);
  const fieldError = current && current.field === problem?.field ? current : apiFieldError;
  // Focus goes to the field to fix, whose description now carries the problem.
  useEffect(() => {
    const at = problem ?? apiFieldError;
    if (at?.field === 'verdict') document.querySelector<HTMLInputElement>('input[name="verdict"]')?.focus();
    if (at?.field === 'expected.content') refs.reply.current?.focus();
    if (at?.field === 'expected.arguments') document.getElementById('tool-arguments')?.focus();
    if (at?.field === 'expected.action') refs.tool.current?.focus();
  }, [problem, submit.error]);
  return (
    <>
      <Breadcrumbs>
        <Link href={paths.queue(queue.id)}>{queue.name}</Link> › item {at + 1} of {items.length}
      </Breadcrumbs>
      <h1 tabIndex={-1}>
        Item {at + 1} of {items.length}: trace <code>{item.trace_id}</code>
      </h1>
      <div class="item-layout">
        <div class="item-main">
          <section aria-labelledby="judge">
            <h2 id="judge">What the evaluators said</h2>
            <p>
              {item.judge_label === 'not_scored' ? (
                <span class="badge neutral">
                  Added to the queue by hand: the cycle did not score this trace
                </span>
              ) : (
                <span class={`badge ${item.judge_label === 'pass' ? 'good' : 'bad'}`}>
                  {item.verdict_source === 'code' ? 'Code check' : 'Judge'}: {item.judge_label}
                </span>
              )}{' '}
              {item.judge_category && <span>category {item.judge_category.replace(/_/g, ' ')}</span>}
            </p>
            {explanation && <p class="explanation">{explanation}</p>}
            {trace.data?.trace.status === 'error' && (
              <p class="error">The trace ended in an error (see the span tree below).</p>
            )}
            {clusters.map((c) => (
              <p key={c.clusterId}>
                Cluster <strong>{c.name}</strong> ({c.category.replace(/_/g, ' ')}
                {c.intervention ? `, fix by ${c.intervention}` : ''}){c.noise ? ' — unclustered' : ''}
              </p>
            ))}
          </section>
          <section aria-labelledby="conversation">
            <h2 id="conversation">Conversation</h2>
            <Transcript messages={messages} step={step} failing={failing} />
            {trace.data && <SpanTreeView spans={trace.data.spans} />}
          </section>
        </div>
        <div class="item-side">
          <section aria-labelledby="your-label">
            <h2 id="your-label">Your label</h2>
            {!canLabel ? (
              <p class="notice">
                You can read this item. Labelling needs the reviewer role for agent{' '}
                <strong>{queue.agent}</strong>.
              </p>
            ) : labelled && !editing ? (
              <YourLabel
                label={item.yourLabel}
                canChange={queue.status === 'open'}
                onChange={() => {
                  if (item.yourLabel) setDraft(draftFromLabel(item.yourLabel));
                  setEditing(true);
                  requestAnimationFrame(() =>
                    document.querySelector<HTMLInputElement>('input[name="verdict"]:checked')?.focus(),
                  );
                }}
              />
            ) : !editing && (item.status === 'complete' || queue.status !== 'open') ? (
              <p class="notice">This item needs no more labels.</p>
            ) : (
              <>
                {editing ? (
                  <p class="notice">
                    Changing your label: it replaces the one you stored, while the queue is open.{' '}
                    <button
                      type="button"
                      class="secondary"
                      onClick={() => {
                        setEditing(false);
                        // Back to the button that opened the change, which returns with the label.
                        requestAnimationFrame(() => document.getElementById('change-label')?.focus());
                      }}
                    >
                      Keep it as it was
                    </button>
                  </p>
                ) : (
                  <ClaimStatus
                    pending={claim.isPending}
                    error={claim.error}
                    secondsLeft={secondsLeft}
                    onClaim={() => claim.mutate()}
                  />
                )}
                {suggesting && (
                  <LabelSuggestionView
                    pending={suggestion.isPending}
                    error={suggestion.error}
                    answer={suggestion.data}
                    onUse={takeSuggestion}
                    taken={tookSuggestion}
                    disabled={formDisabled}
                  />
                )}
                {/* After the suggestion's heading: say where the reviewer's own fields start. */}
                {suggesting && <h3 class="visually-hidden">Your verdict and correction</h3>}
                <form
                  onSubmit={(e) => {
                    e.preventDefault();
                    send();
                  }}
                >
                  <LabelForm
                    draft={draft}
                    set={set}
                    scoreConfigs={details.scoreConfigs}
                    tools={tools}
                    dimensions={dimensions}
                    refs={refs}
                    disabled={formDisabled}
                    judgeCategory={item.judge_category}
                    fieldError={fieldError}
                  />
                  {submit.error && !apiFieldError && (
                    <p class="error" role="alert">
                      {submit.error.message}
                    </p>
                  )}
                  <button type="submit" disabled={formDisabled}>
                    {submit.isPending
                      ? 'Submitting…'
                      : editing
                        ? 'Save the change and next'
                        : 'Submit and next'}{' '}
                    <kbd>Ctrl+Enter</kbd>
                  </button>
                </form>
              </>
            )}
          </section>
          <Shortcuts
            label="Item shortcuts"
            keys={
              labelling
                ? SHORTCUTS.filter(([key]) => suggesting || key !== 'a')
                : SHORTCUTS.filter(([key]) => key === 'j / k')
            }
          />
        </div>
      </div>
    </>
  );
}
