import type { Ref } from 'preact';
import { CATEGORIES, CATEGORY_LABELS } from '../api/categories.js';
import { argumentsPrefilled, withTool, type LabelDraft } from '../api/label-draft.js';
import type { Category, ScoreConfig } from '../api/types.js';

export interface FieldRefs {
  category: Ref<HTMLSelectElement>;
  expected: Ref<HTMLInputElement>;
  reply: Ref<HTMLTextAreaElement>;
  tool: Ref<HTMLInputElement>;
  comment: Ref<HTMLTextAreaElement>;
}

/** A problem with one field of the label (found by the API, or before sending), shown at that field. */
export interface FieldError {
  field: 'verdict' | 'expected.content' | 'expected.action' | 'expected.arguments';
  message: string;
}

/**
 * The label: verdict, category (for a failure), the step the agent should have taken
 * (a corrected reply or a tool call, arguments as `name: value` lines), the queue's score
 * configs and a comment. Plain form controls, each with its label, in reading order.
 */
export function LabelForm({
  draft,
  set,
  scoreConfigs,
  tools,
  dimensions,
  refs,
  disabled,
  judgeCategory,
  fieldError,
}: {
  draft: LabelDraft;
  set: (patch: Partial<LabelDraft>) => void;
  scoreConfigs: ScoreConfig[];
  /** The tools the expected call may name, with what each takes (null when unknown). */
  tools: { name: string; takes: string | null }[];
  /** The judge's dimensions scored on this trace, with the judge's label for each. */
  dimensions: { name: string; judge: string }[];
  refs: FieldRefs;
  disabled: boolean;
  /** The judge's category, which the draft starts from: said next to the field. */
  judgeCategory: string | null;
  fieldError: FieldError | null;
}) {
  const errorAt = (field: FieldError['field']) => (fieldError?.field === field ? fieldError.message : null);
  const verdictError = errorAt('verdict');
  const replyError = errorAt('expected.content');
  const toolError = errorAt('expected.action');
  const argumentsError = errorAt('expected.arguments');
  const named = tools.find((t) => t.name === draft.tool.trim());
  return (
    <fieldset class="label-form" disabled={disabled}>
      <legend class="visually-hidden">Your label</legend>
      <fieldset class="verdict">
        <legend>Verdict</legend>
        {(['pass', 'fail'] as const).map((v) => (
          <label key={v} class={`choice ${v} ${draft.verdict === v ? 'chosen' : ''}`}>
            <input
              type="radio"
              name="verdict"
              value={v}
              checked={draft.verdict === v}
              aria-invalid={verdictError ? true : undefined}
              aria-describedby={verdictError ? 'verdict-error' : undefined}
              onChange={() => set({ verdict: v })}
            />{' '}
            {v === 'pass' ? 'Pass' : 'Fail'} <kbd>{v[0]}</kbd>
          </label>
        ))}
      </fieldset>
      {verdictError && (
        <p id="verdict-error" class="field-error" role="alert">
          {verdictError}
        </p>
      )}

      {draft.verdict === 'fail' && (
        <>
          <label for="category">
            Failure category <kbd>c</kbd>
            {judgeCategory && CATEGORIES.some((c) => c === judgeCategory) && (
              <span class="muted"> (the judge said {CATEGORY_LABELS[judgeCategory as Category]})</span>
            )}
          </label>
          <select
            id="category"
            ref={refs.category}
            value={draft.category}
            onChange={(e) => set({ category: e.currentTarget.value as Category | '' })}
          >
            <option value="">Not sure</option>
            {CATEGORIES.map((c) => (
              <option key={c} value={c}>
                {CATEGORY_LABELS[c]}
              </option>
            ))}
          </select>

          <fieldset class="expected">
            <legend>
              What should the agent have done? <kbd>e</kbd>
            </legend>
            {(
              [
                ['none', "Don't say", null],
                ['reply', 'Reply with', 'r'],
                ['tool', 'Call a tool', 't'],
              ] as const
            ).map(([value, text, key], i) => (
              <label key={value} class="inline">
                <input
                  type="radio"
                  name="expected"
                  value={value}
                  ref={i === 0 ? refs.expected : undefined}
                  checked={draft.expected === value}
                  onChange={() => set({ expected: value })}
                />{' '}
                {text}
                {key && (
                  <>
                    {' '}
                    <kbd>{key}</kbd>
                  </>
                )}
              </label>
            ))}
            {draft.expected === 'reply' && (
              <>
                <label for="reply">Corrected reply</label>
                <textarea
                  id="reply"
                  ref={refs.reply}
                  rows={3}
                  value={draft.reply}
                  aria-invalid={replyError ? true : undefined}
                  aria-describedby={replyError ? 'reply-error' : undefined}
                  onInput={(e) => set({ reply: e.currentTarget.value })}
                />
                {replyError && (
                  <p id="reply-error" class="field-error" role="alert">
                    {replyError}
                  </p>
                )}
              </>
            )}
            {draft.expected === 'tool' && (
              <>
                <label for="tool">Tool</label>
                <input
                  id="tool"
                  ref={refs.tool}
                  list="tool-names"
                  value={draft.tool}
                  aria-invalid={toolError ? true : undefined}
                  aria-describedby={toolError ? 'tool-error tool-hint' : 'tool-hint'}
                  onInput={(e) => set(withTool(draft, e.currentTarget.value))}
                />
                {/* What to write, on the form: a first-time reviewer cannot know the agent's
                    tools or their argument names, and the conversation may show neither. */}
                <p id="tool-hint" class="muted small">
                  {named?.takes && (
                    <>
                      <code>{named.name}</code> takes {named.takes}.{' '}
                    </>
                  )}
                  {tools.length > 0
                    ? `The agent's tools: ${tools.map((t) => t.name).join(', ')}.`
                    : 'Name the tool the agent should have called.'}
                </p>
                {toolError && (
                  <p id="tool-error" class="field-error" role="alert">
                    {toolError}
                  </p>
                )}
                <datalist id="tool-names">
                  {tools.map((t) => (
                    <option key={t.name} value={t.name} />
                  ))}
                </datalist>
                <label for="tool-arguments">
                  Arguments, one per line as name: value
                  {argumentsPrefilled(draft) ? " (the agent's own, to correct)" : ''}
                </label>
                <textarea
                  id="tool-arguments"
                  rows={3}
                  value={draft.toolArguments}
                  aria-invalid={argumentsError ? true : undefined}
                  aria-describedby={
                    argumentsError ? 'tool-arguments-error tool-arguments-hint' : 'tool-arguments-hint'
                  }
                  // Still the agent's own arguments: selected, so typing replaces them.
                  onFocus={(e) => {
                    if (argumentsPrefilled(draft)) e.currentTarget.select();
                  }}
                  onInput={(e) => set({ toolArguments: e.currentTarget.value })}
                />
                <p id="tool-arguments-hint" class="muted small">
                  Put a value in double quotes to keep it as text, e.g. <code>zip: "02139"</code>.
                </p>
                {argumentsError && (
                  <p id="tool-arguments-error" class="field-error" role="alert">
                    {argumentsError}
                  </p>
                )}
              </>
            )}
          </fieldset>
        </>
      )}

      {scoreConfigs.map((config) => (
        <ScoreField
          key={config.id}
          config={config}
          value={draft.scores[config.name] ?? ''}
          onChange={(value) => set({ scores: { ...draft.scores, [config.name]: value } })}
        />
      ))}

      {dimensions.length > 0 && (
        <details class="dimensions">
          <summary>Per-dimension labels (optional, {dimensions.length})</summary>
          {dimensions.map(({ name, judge }) => (
            <div key={name}>
              <label for={`dimension-${name}`}>
                {name.replace(/_/g, ' ')} <span class="muted">(judge: {judge})</span>
              </label>
              <select
                id={`dimension-${name}`}
                value={draft.dimensions[name] ?? ''}
                onChange={(e) =>
                  set({
                    dimensions: {
                      ...draft.dimensions,
                      [name]: e.currentTarget.value as LabelDraft['dimensions'][string],
                    },
                  })
                }
              >
                <option value="">—</option>
                <option value="pass">pass</option>
                <option value="fail">fail</option>
              </select>
            </div>
          ))}
        </details>
      )}

      <label for="comment">
        Comment <kbd>m</kbd>
      </label>
      <textarea
        id="comment"
        ref={refs.comment}
        rows={2}
        maxLength={4000}
        value={draft.comment}
        onInput={(e) => set({ comment: e.currentTarget.value })}
      />
    </fieldset>
  );
}

function ScoreField({
  config,
  value,
  onChange,
}: {
  config: ScoreConfig;
  value: string | number | boolean;
  onChange: (value: string | number | boolean) => void;
}) {
  const id = `score-${config.name}`;
  const label = (
    <label for={id}>
      {config.name}
      {config.description ? <span class="muted"> — {config.description}</span> : null}
    </label>
  );
  if (config.dataType === 'NUMERIC')
    return (
      <>
        {label}
        <input
          id={id}
          type="number"
          min={config.minValue ?? undefined}
          max={config.maxValue ?? undefined}
          step="any"
          value={String(value)}
          onInput={(e) => onChange(e.currentTarget.value === '' ? '' : e.currentTarget.valueAsNumber)}
        />
      </>
    );
  const options =
    config.dataType === 'BOOLEAN'
      ? [
          { label: 'yes', value: 'true' },
          { label: 'no', value: 'false' },
        ]
      : (config.categories ?? []).map((c) => ({ label: c.label, value: c.label }));
  return (
    <>
      {label}
      <select
        id={id}
        value={String(value)}
        onChange={(e) => {
          const v = e.currentTarget.value;
          onChange(config.dataType === 'BOOLEAN' && v !== '' ? v === 'true' : v);
        }}
      >
        <option value="">—</option>
        {options.map((o) => (
          <option key={o.value} value={o.value}>
            {o.label}
          </option>
        ))}
      </select>
    </>
  );
}
