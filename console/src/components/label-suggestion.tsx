import { CATEGORY_LABELS } from '../api/categories.js';
import { argumentLines } from '../api/sampled-trace.js';
import type { SuggestionAnswer } from '../api/types.js';

/**
 * The teacher model's suggested label for the item, above the reviewer's form: the verdict,
 * category and step it suggests, why, and who wrote it. Taking it (the button or `a`) fills
 * the form, which the reviewer still submits; it never labels anything by itself.
 */
export function LabelSuggestionView({
  pending,
  error,
  answer,
  onUse,
  taken,
  disabled,
}: {
  pending: boolean;
  error: Error | null;
  answer: SuggestionAnswer | undefined;
  onUse: () => void;
  /** The reviewer took it into the form (said to screen readers). */
  taken: boolean;
  disabled: boolean;
}) {
  const s = answer?.suggestion;
  const step = s?.expected;
  // One live region, always there, so each change is announced (a region inserted together
  // with its text often is not).
  const said = taken
    ? 'Suggested label filled in: check it and submit with Ctrl+Enter.'
    : pending
      ? ''
      : s
        ? `Suggested label ready: ${s.verdict}${s.category ? `, ${CATEGORY_LABELS[s.category]}` : ''}. Press a to use it.`
        : `No suggestion: ${error?.message ?? answer?.unavailable ?? 'none was given'}.`;
  return (
    <section aria-labelledby="suggestion" class="suggestion">
      <h3 id="suggestion">Suggested label</h3>
      <p role="status" class="visually-hidden">
        {said}
      </p>
      {pending ? (
        <p class="muted">Asking the teacher model for a suggestion; you can label meanwhile.</p>
      ) : error ? (
        <p class="muted">No suggestion: {error.message}</p>
      ) : !s ? (
        <p class="muted">No suggestion: {answer?.unavailable ?? 'none was given'}.</p>
      ) : (
        <>
          <p class="suggestion-verdict">
            <span class={`badge ${s.verdict === 'pass' ? 'good' : 'bad'}`}>{s.verdict}</span>
            {s.category && <> {CATEGORY_LABELS[s.category]}</>}
          </p>
          <div class="suggestion-detail">
            {step &&
              (step.action === 'respond' ? (
                <p>
                  Reply: <q class="suggested-step">{step.content}</q>
                </p>
              ) : (
                <>
                  <p>
                    Call <code>{step.action}</code>
                    {Object.keys(step.arguments).length === 0 && ' with no arguments'}
                  </p>
                  {Object.keys(step.arguments).length > 0 && (
                    <pre class="suggested-step">{argumentLines(step.arguments)}</pre>
                  )}
                </>
              ))}
            <p class="explanation">{s.reason}</p>
          </div>
          <p class="suggestion-by muted">
            By {s.model}; check before use.{' '}
            <button type="button" class="secondary" onClick={onUse} disabled={disabled} aria-keyshortcuts="a">
              Use this label <kbd>a</kbd>
            </button>
          </p>
        </>
      )}
    </section>
  );
}
