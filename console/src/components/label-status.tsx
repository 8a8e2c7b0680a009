import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError } from '../api/client.js';
import { CATEGORY_LABELS } from '../api/categories.js';
import type { OwnLabel } from '../api/types.js';

/*
 * Where the reviewer stands on an item, above its label form: the label they stored (and
 * the way to change it while the queue is open), or their claim and its countdown.
 */

/** The label the reviewer stored, in words, with the way to change it while the queue is open. */
export function YourLabel({
  label,
  canChange,
  onChange,
}: {
  label: OwnLabel | null;
  canChange: boolean;
  onChange: () => void;
}) {
  const step = label?.expected;
  return (
    <div class="notice your-label">
      {label ? (
        <p>
          You labelled this item <strong>{label.verdict}</strong>
          {label.category ? `, ${CATEGORY_LABELS[label.category]}` : ''}
          {step
            ? step.action === 'respond'
              ? '; the agent should have replied.'
              : `; the agent should have called ${step.action}.`
            : '.'}
          {label.comment ? ` Comment: ${label.comment}` : ''}
        </p>
      ) : (
        <p>You labelled this item already.</p>
      )}
      {canChange ? (
        <button id="change-label" type="button" class="secondary" onClick={onChange}>
          Change your label
        </button>
      ) : (
        <p class="muted">The queue is {label ? 'no longer open' : 'closed'}: the label is final.</p>
      )}
    </div>
  );
}

export function ClaimStatus({
  pending,
  error,
  secondsLeft,
  onClaim,
}: {
  pending: boolean;
  error: Error | null;
  secondsLeft: number | null;
  onClaim: () => void;
}) {
  // "Claim again" goes with the expired claim: focus goes to the new claim once it is shown
  // (the claim's answer and the re-render that shows it come after the click).
  const [reclaiming, setReclaiming] = useState(false);
  const claimed = useRef<HTMLParagraphElement>(null);
  useEffect(() => {
    if (!reclaiming || !claimed.current) return;
    claimed.current.focus();
    setReclaiming(false);
  }, [reclaiming, secondsLeft]);
  if (error)
    return (
      <p class="error" role="alert">
        {error instanceof ApiError && error.status === 409
          ? `Someone else holds this item's last review slot: ${error.message}`
          : `Could not claim this item: ${error.message}`}
      </p>
    );
  if (pending || secondsLeft === null) return <p class="muted">Claiming this item for you…</p>;
  if (secondsLeft === 0)
    return (
      <p class="error" role="alert">
        Your claim expired; another reviewer may take this item.{' '}
        <button
          type="button"
          class="secondary"
          onClick={() => {
            setReclaiming(true);
            onClaim();
          }}
        >
          Claim again
        </button>
      </p>
    );
  const minutes = Math.floor(secondsLeft / 60);
  const soon = secondsLeft < 120;
  return (
    <>
      <p id="claim" ref={claimed} class={`claim ${soon ? 'soon' : ''}`} tabIndex={-1}>
        Claimed by you — expires in{' '}
        <strong>
          {minutes}:{String(secondsLeft % 60).padStart(2, '0')}
        </strong>
      </p>
      {/* The countdown itself is not live (it would be read every second): screen-reader
          users hear once that time is running out, as others see the notice turn red. */}
      <p role="status" class="visually-hidden">
        {soon ? 'Your claim on this item ends in less than 2 minutes.' : ''}
      </p>
    </>
  );
}
