import { useState } from 'preact/hooks';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { answer, api } from '../api/client.js';
import type { ApprovalResult, CycleStatus } from '../api/release-types.js';

/**
 * Approve or reject the gated candidate. The API signs the decision as the signed-in person
 * (the body carries only the comment or reason); the workflow counts people toward the agent's
 * N-person rule and refuses a second answer from the same person.
 */
export function ApprovalForm({
  status,
  onDecided,
}: {
  status: CycleStatus;
  /** Told the decision's answer: the last approval moves the cycle on and unmounts this form. */
  onDecided?: (result: ApprovalResult) => void;
}) {
  const id = status.cycleId;
  const [text, setText] = useState('');
  const [asked, setAsked] = useState<'approve' | 'reject' | null>(null);
  const queryClient = useQueryClient();
  const decide = useMutation({
    mutationFn: (decision: 'approve' | 'reject') =>
      decision === 'approve'
        ? answer<ApprovalResult>(
            api.POST('/api/cycles/{id}/approve', {
              params: { path: { id } },
              body: text.trim() ? { comment: text.trim() } : {},
            }),
          )
        : answer<ApprovalResult>(
            api.POST('/api/cycles/{id}/reject', { params: { path: { id } }, body: { reason: text.trim() } }),
          ),
    onSuccess: (result) => {
      onDecided?.(result);
      return queryClient.invalidateQueries({ queryKey: ['cycle', id] });
    },
  });
  const submit = (decision: 'approve' | 'reject') => {
    setAsked(decision);
    // The reason is missing: to its field, which the message now describes.
    if (decision === 'reject' && !text.trim()) return document.getElementById('decision-text')?.focus();
    decide.mutate(decision);
  };
  const missingReason = asked === 'reject' && !text.trim();
  return (
    <form
      class="decision"
      aria-labelledby="decide"
      onSubmit={(event) => {
        event.preventDefault();
        submit('approve');
      }}
    >
      <h3 id="decide">Your decision</h3>
      <label for="decision-text">Comment (approval) or reason (rejection, required)</label>
      <textarea
        id="decision-text"
        rows={3}
        value={text}
        aria-invalid={missingReason}
        aria-describedby={missingReason ? 'decision-error' : undefined}
        onInput={(event) => setText(event.currentTarget.value)}
      />
      {missingReason && (
        <p id="decision-error" class="error" role="alert">
          Say why you reject the candidate: the reason is kept with the decision.
        </p>
      )}
      <div class="toolbar">
        <button type="submit" disabled={decide.isPending}>
          Approve release
        </button>
        <button type="button" class="danger" disabled={decide.isPending} onClick={() => submit('reject')}>
          Reject
        </button>
      </div>
      {decide.isError && (
        <p class="error" role="alert">
          {decide.error.message}
        </p>
      )}
      {decide.data && (
        <p role="status">
          {decide.data.decision === 'pending'
            ? `Your approval counted: ${decide.data.approvals} of ${decide.data.required} needed.`
            : recordedText(decide.data)}
        </p>
      )}
    </form>
  );
}

/** What a decision that settled the cycle says. */
export const recordedText = (result: ApprovalResult) =>
  `Recorded: ${result.decision} by ${result.decidedBy}.`;
