import { useEffect, useRef, useState } from 'preact/hooks';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { answer, api } from '../api/client.js';
import type { LabelChange, PromptVersionEntry } from '../api/registry-types.js';

/** `latest` always names the highest version; it cannot be moved. */
const IMPLICIT = 'latest';

type Request =
  | { kind: 'move'; label: string; version: number; reason: string }
  | { kind: 'rollback'; label: string; to: number | null; reason: string };

const where = (versions: readonly PromptVersionEntry[], label: string) =>
  versions.find((v) => v.labels.includes(label))?.version ?? null;

function describe(request: Request, versions: readonly PromptVersionEntry[]): string {
  const now = where(versions, request.label);
  const from = now === null ? 'where it is not set yet' : `version ${now}`;
  if (request.kind === 'move') return `Move "${request.label}" from ${from} to version ${request.version}?`;
  return request.to === null
    ? `Roll "${request.label}" back from ${from} to where it pointed before its last move?`
    : `Roll "${request.label}" back from ${from} to version ${request.to}?`;
}

/**
 * An operator's label moves and rollbacks on one prompt, each confirmed before it is sent.
 * Every change is audited under the signed-in person and announced on the agent's webhook;
 * the API refuses (and the page shows why) a rollback with nowhere to go.
 */
export function LabelActions({ name, versions }: { name: string; versions: readonly PromptVersionEntry[] }) {
  const labels = [...new Set(versions.flatMap((v) => v.labels))].filter((l) => l !== IMPLICIT).sort();
  const newest = versions[0]?.version ?? 1;
  const [moveLabel, setMoveLabel] = useState(
    labels.includes('production') ? 'production' : (labels[0] ?? ''),
  );
  const [moveTo, setMoveTo] = useState(String(newest));
  const [moveWhy, setMoveWhy] = useState('');
  const [backLabel, setBackLabel] = useState(
    labels.includes('production') ? 'production' : (labels[0] ?? ''),
  );
  const [backTo, setBackTo] = useState('');
  const [backWhy, setBackWhy] = useState('');
  const [pending, setPending] = useState<Request | null>(null);
  // What stops the request, and the field that has to change (focused, and described by it).
  const [problem, setProblem] = useState<{ field: string; message: string } | null>(null);
  const confirmButton = useRef<HTMLButtonElement>(null);
  // The form whose button asked for the confirmation: focus returns to that button when the
  // confirmation closes (confirmed or cancelled), as a dialog gives it back to its opener.
  const opener = useRef<Request['kind'] | null>(null);
  const queryClient = useQueryClient();

  useEffect(() => {
    if (pending) confirmButton.current?.focus();
    else if (opener.current) document.getElementById(`${opener.current}-submit`)?.focus();
  }, [pending]);
  useEffect(() => {
    if (problem) document.getElementById(problem.field)?.focus();
  }, [problem]);
  const invalid = (field: string) =>
    problem?.field === field
      ? ({ 'aria-invalid': true, 'aria-describedby': 'label-action-problem' } as const)
      : {};

  const change = useMutation({
    mutationFn: (request: Request) => {
      const params = { path: { name } };
      const reason = request.reason.trim();
      return request.kind === 'move'
        ? answer<LabelChange>(
            api.POST('/api/prompts/{name}/labels', {
              params,
              body: { label: request.label, version: request.version, ...(reason ? { reason } : {}) },
            }),
          )
        : answer<LabelChange>(
            api.POST('/api/prompts/{name}/rollback', {
              params,
              body: { label: request.label, reason, ...(request.to !== null ? { to: request.to } : {}) },
            }),
          );
    },
    onSettled: () => {
      setPending(null);
      return Promise.all([
        queryClient.invalidateQueries({ queryKey: ['prompt', name] }),
        queryClient.invalidateQueries({ queryKey: ['prompts'] }),
        queryClient.invalidateQueries({ queryKey: ['artifacts'] }),
      ]);
    },
  });

  const ask = (request: Request) => {
    change.reset();
    const labelField = request.kind === 'move' ? 'move-label' : 'rollback-label';
    if (!request.label.trim()) return setProblem({ field: labelField, message: 'Name the label to change.' });
    if (request.label === IMPLICIT)
      return setProblem({
        field: labelField,
        message: '"latest" always points at the highest version and cannot be moved.',
      });
    if (request.kind === 'rollback' && !request.reason.trim())
      return setProblem({
        field: 'rollback-why',
        message: 'Say why you roll back: the reason is kept in the audit log.',
      });
    setProblem(null);
    opener.current = request.kind;
    setPending(request);
  };

  const done = change.data?.move;
  return (
    <section class="controls" aria-labelledby="label-actions">
      <h2 id="label-actions">Move or roll back a label</h2>
      {pending ? (
        <div role="group" aria-labelledby="confirm-question" class="confirm">
          <p id="confirm-question">
            <strong>{describe(pending, versions)}</strong> Agents resolving this label get the new version
            within seconds.
          </p>
          <div class="toolbar">
            <button
              ref={confirmButton}
              type="button"
              class={pending.kind === 'rollback' ? 'danger' : undefined}
              disabled={change.isPending}
              onClick={() => change.mutate(pending)}
            >
              {pending.kind === 'move' ? 'Confirm move' : 'Confirm rollback'}
            </button>
            <button
              type="button"
              class="secondary"
              disabled={change.isPending}
              onClick={() => setPending(null)}
            >
              Cancel
            </button>
          </div>
        </div>
      ) : (
        <>
          <form
            aria-labelledby="move-heading"
            onSubmit={(event) => {
              event.preventDefault();
              ask({ kind: 'move', label: moveLabel.trim(), version: Number(moveTo), reason: moveWhy });
            }}
          >
            <h3 id="move-heading">Move a label</h3>
            <label for="move-label">Label (an existing one, or a new name)</label>
            <input
              id="move-label"
              type="text"
              list="prompt-labels"
              required
              {...invalid('move-label')}
              value={moveLabel}
              onInput={(e) => setMoveLabel(e.currentTarget.value)}
            />
            <datalist id="prompt-labels">
              {labels.map((l) => (
                <option key={l} value={l} />
              ))}
            </datalist>
            <label for="move-to">To version</label>
            <select id="move-to" value={moveTo} onChange={(e) => setMoveTo(e.currentTarget.value)}>
              {versions.map((v) => (
                <option key={v.version} value={String(v.version)}>
                  {v.version}
                  {v.labels.length > 0 ? ` (${v.labels.join(', ')})` : ''}
                </option>
              ))}
            </select>
            <label for="move-why">Reason (kept in the audit log)</label>
            <input
              id="move-why"
              type="text"
              value={moveWhy}
              onInput={(e) => setMoveWhy(e.currentTarget.value)}
            />
            <button id="move-submit" type="submit">
              Move label…
            </button>
          </form>
          {labels.length > 0 && (
            <form
              aria-labelledby="rollback-heading"
              onSubmit={(event) => {
                event.preventDefault();
                ask({
                  kind: 'rollback',
                  label: backLabel,
                  to: backTo === '' ? null : Number(backTo),
                  reason: backWhy,
                });
              }}
            >
              <h3 id="rollback-heading">Roll back a label</h3>
              <label for="rollback-label">Label</label>
              <select
                id="rollback-label"
                {...invalid('rollback-label')}
                value={backLabel}
                onChange={(e) => setBackLabel(e.currentTarget.value)}
              >
                {labels.map((l) => (
                  <option key={l} value={l}>
                    {l} (now version {where(versions, l)})
                  </option>
                ))}
              </select>
              <label for="rollback-to">Back to</label>
              <select id="rollback-to" value={backTo} onChange={(e) => setBackTo(e.currentTarget.value)}>
                <option value="">where it pointed before its last move</option>
                {versions.map((v) => (
                  <option key={v.version} value={String(v.version)}>
                    version {v.version}
                  </option>
                ))}
              </select>
              <label for="rollback-why">Reason (required, kept in the audit log)</label>
              <input
                id="rollback-why"
                type="text"
                {...invalid('rollback-why')}
                value={backWhy}
                onInput={(e) => setBackWhy(e.currentTarget.value)}
              />
              <button id="rollback-submit" type="submit" class="danger">
                Roll back…
              </button>
            </form>
          )}
        </>
      )}
      {problem && (
        <p id="label-action-problem" class="error" role="alert">
          {problem.message}
        </p>
      )}
      {change.isError && (
        <p class="error" role="alert">
          {change.error.message}
        </p>
      )}
      {change.data && !change.isError && (
        <p role="status">
          {done
            ? `Done: "${done.label}" now points at version ${done.to?.version ?? '—'} (was ${done.from ? `version ${done.from.version}` : 'unset'}).`
            : 'Nothing changed: the label already points there.'}
        </p>
      )}
    </section>
  );
}
