import type { JSX } from 'preact';
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { CoachingView } from '../../../coaching/coaching-service.js';
import { answer, api } from '../api/client.js';
import {
  behaviourDraft,
  behaviourOf,
  suggestionNote,
  suggestSituation,
  type BehaviourDraft,
  type BehaviourKind,
  type CreateCoachingBody,
  type SituationSuggestion,
  type SuggestionState,
} from '../api/coaching-draft.js';
import type { AgentAction, ChatMessage, Json } from '../api/types.js';

export type Coaching = Json<CoachingView>;

const KINDS: { kind: BehaviourKind; label: string }[] = [
  { kind: 'reply', label: 'Reply' },
  { kind: 'tool_call', label: 'Call a tool' },
  { kind: 'ask_confirmation', label: 'Ask for confirmation' },
  { kind: 'transfer', label: 'Transfer to a human' },
];

/** The behaviour as one line a person reads. */
export function behaviourText(b: Coaching['behaviour']): string {
  switch (b.kind) {
    case 'reply':
      return `reply: ${b.text}`;
    case 'ask_confirmation':
      return `ask for confirmation: ${b.text}`;
    case 'transfer':
      return `transfer to a human: ${b.reason}`;
    case 'tool_call':
      return `call ${b.tool}(${JSON.stringify(b.arguments ?? {})})`;
  }
}

/** POST /api/agents/{id}/coaching: the author is the signed-in person (the API records it). */
function useCreateCoaching(agent: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (body: CreateCoachingBody) =>
      answer<{ coaching: Coaching }>(
        api.POST('/api/agents/{id}/coaching', { params: { path: { id: agent } }, body }),
      ),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: ['agent', agent, 'coaching'] }),
  });
}

/**
 * POST /api/agents/{id}/coaching/situation: the teacher model's situation for the step (or the
 * quoted request, when no model answered usably). Asked once per step; a failure is shown, not
 * retried: the form works without it.
 */
function useSuggestedSituation(agent: string, traceId: string, step: number, enabled: boolean) {
  return useQuery({
    queryKey: ['agent', agent, 'coaching-situation', traceId, step],
    queryFn: () =>
      answer<SituationSuggestion>(
        api.POST('/api/agents/{id}/coaching/situation', {
          params: { path: { id: agent } },
          body: { traceId, step },
        }),
      ),
    enabled,
    retry: false,
    staleTime: Number.POSITIVE_INFINITY,
    refetchOnWindowFocus: false,
  });
}

/**
 * "Provide coaching" on one step of a trace: the situation it applies to (suggested by the
 * model from the conversation, the request quoted until it answers or when it cannot; the
 * reviewer's own edits are never overwritten) and the behaviour the agent should show there (started from the
 * expected step, or the step taken), saved as a coaching memory of the trace's agent with the
 * trace and step as its source. Escape or Cancel closes it; the saved memory is shown after.
 */
export function CoachingForm({
  agent,
  traceId,
  messages,
  step,
  start,
  onClose,
}: {
  agent: string;
  traceId: string;
  messages: readonly ChatMessage[];
  /** Index in the trace's messages of the step corrected; messages.length for its decision. */
  step: number;
  start: AgentAction | null;
  onClose: () => void;
}) {
  const create = useCreateCoaching(agent);
  const [situation, setSituation] = useState(() => suggestSituation(messages, step));
  const [edited, setEdited] = useState(false);
  const suggested = useSuggestedSituation(agent, traceId, step, situation !== '');
  // A layout effect: a plain one runs a frame later, with the `edited` of its render, and a
  // suggestion already cached (the form opened again) overwrote words typed in that frame.
  useLayoutEffect(() => {
    if (suggested.data && !edited) setSituation(suggested.data.situation);
  }, [suggested.data, edited]);
  const suggestion: SuggestionState | null = edited
    ? { state: 'edited' }
    : suggested.data
      ? { state: 'answered', suggestion: suggested.data }
      : suggested.error
        ? { state: 'failed', message: suggested.error.message }
        : suggested.isFetching
          ? { state: 'asking' }
          : null;
  const [draft, setDraft] = useState<BehaviourDraft>(() => behaviourDraft(start));
  const [reason, setReason] = useState('');
  const [candidate, setCandidate] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);
  const first = useRef<HTMLTextAreaElement>(null);
  const saved = useRef<HTMLDivElement>(null);
  const id = `coach-${step}`;
  useEffect(() => first.current?.focus(), []);
  useEffect(() => {
    if (create.isSuccess) saved.current?.focus();
  }, [create.isSuccess]);
  const set = (patch: Partial<BehaviourDraft>) => setDraft((d) => ({ ...d, ...patch }));

  const onKeyDown = (event: JSX.TargetedKeyboardEvent<HTMLElement>) => {
    if (event.key === 'Escape') {
      event.preventDefault();
      onClose();
    }
  };

  if (create.isSuccess) {
    const c = create.data.coaching;
    return (
      <div class="panel coaching" ref={saved} tabIndex={-1} onKeyDown={onKeyDown}>
        <p class="notice" role="status">
          Saved coaching <code>{c.id}</code> v{c.version} ({c.status}) for agent {c.agent}.
        </p>
        <dl class="facts" aria-label={`Coaching ${c.id}`}>
          <dt>Situation</dt>
          <dd>{c.situation}</dd>
          <dt>Behaviour</dt>
          <dd>{behaviourText(c.behaviour)}</dd>
          <dt>Example request</dt>
          <dd>{c.example ?? '—'}</dd>
          <dt>Source</dt>
          <dd>
            trace <code>{c.sourceTraceId}</code>, step {c.sourceStep}
          </dd>
          <dt>Recalled above similarity</dt>
          <dd>{c.threshold}</dd>
          <dt>Author</dt>
          <dd>{c.updatedBy}</dd>
        </dl>
        <p class="muted">
          Test it:{' '}
          <code>
            flywheel coaching test {c.agent} {c.id}
          </code>
        </p>
        <button type="button" class="secondary" onClick={onClose}>
          Close
        </button>
      </div>
    );
  }

  const onSubmit = (event: JSX.TargetedSubmitEvent<HTMLFormElement>) => {
    event.preventDefault();
    const built = behaviourOf(draft);
    if ('error' in built) {
      setProblem(built.error);
      return;
    }
    setProblem(null);
    create.mutate({
      situation: situation.trim(),
      behaviour: built.behaviour,
      sourceTraceId: traceId,
      sourceStep: step,
      ...(reason.trim() ? { reason: reason.trim() } : {}),
      ...(candidate ? { candidate: true } : {}),
    });
  };

  return (
    <form class="panel coaching" aria-labelledby={`${id}-title`} onSubmit={onSubmit} onKeyDown={onKeyDown}>
      <h4 id={`${id}-title`}>Coaching for this step</h4>
      <label for={`${id}-situation`}>Situation: when this applies</label>
      <textarea
        id={`${id}-situation`}
        ref={first}
        rows={2}
        required
        minLength={3}
        maxLength={2000}
        value={situation}
        aria-describedby={suggestion ? `${id}-situation-note` : undefined}
        onInput={(e) => {
          setEdited(true);
          setSituation(e.currentTarget.value);
        }}
      />
      {suggestion && (
        <p
          id={`${id}-situation-note`}
          class="hint"
          role="status"
          data-source={suggestion.state === 'answered' ? suggestion.suggestion.source : suggestion.state}
        >
          {suggestionNote(suggestion)}
        </p>
      )}
      <fieldset>
        <legend>What the agent should do</legend>
        {KINDS.map((k) => (
          <label key={k.kind} class="inline">
            <input
              type="radio"
              name={`${id}-kind`}
              value={k.kind}
              checked={draft.kind === k.kind}
              onChange={() => set({ kind: k.kind })}
            />{' '}
            {k.label}
          </label>
        ))}
      </fieldset>
      {(draft.kind === 'reply' || draft.kind === 'ask_confirmation') && (
        <>
          <label for={`${id}-text`}>{draft.kind === 'reply' ? 'Reply' : 'Question to ask'}</label>
          <textarea
            id={`${id}-text`}
            rows={3}
            value={draft.text}
            onInput={(e) => set({ text: e.currentTarget.value })}
          />
        </>
      )}
      {draft.kind === 'tool_call' && (
        <>
          <label for={`${id}-tool`}>Tool</label>
          <input id={`${id}-tool`} value={draft.tool} onInput={(e) => set({ tool: e.currentTarget.value })} />
          <label for={`${id}-args`}>Arguments (JSON object)</label>
          <textarea
            id={`${id}-args`}
            rows={3}
            class="mono"
            value={draft.arguments}
            onInput={(e) => set({ arguments: e.currentTarget.value })}
          />
        </>
      )}
      {draft.kind === 'transfer' && (
        <>
          <label for={`${id}-transfer`}>Why transfer</label>
          <input
            id={`${id}-transfer`}
            value={draft.reason}
            onInput={(e) => set({ reason: e.currentTarget.value })}
          />
        </>
      )}
      <label for={`${id}-reason`}>Note for the history (optional)</label>
      <input id={`${id}-reason`} value={reason} onInput={(e) => setReason(e.currentTarget.value)} />
      <label class="inline">
        <input type="checkbox" checked={candidate} onChange={(e) => setCandidate(e.currentTarget.checked)} />{' '}
        Gate it first: save as a candidate, recalled only once an approver promotes it
      </label>
      {(problem ?? create.error) && (
        <p class="error" role="alert">
          Not saved: {problem ?? create.error?.message}
        </p>
      )}
      <div class="toolbar">
        <button type="submit" disabled={create.isPending}>
          {create.isPending ? 'Saving…' : 'Save coaching'}
        </button>
        <button type="button" class="secondary" onClick={onClose}>
          Cancel
        </button>
        <span class="hint">Esc cancels</span>
      </div>
    </form>
  );
}
