import { useState } from 'preact/hooks';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { answer, api } from '../api/client.js';
import type { RolloutState } from '../api/release-types.js';

type Action = 'promote' | 'pause' | 'resume' | 'abort' | 'weight';

/**
 * The operator's controls, each sent as a signed decision of the signed-in person. The
 * workflow refuses an action that does not fit the phase (resume while progressing) and the
 * page shows its reason; buttons are not disabled by phase so that reason stays reachable.
 */
export function RolloutControls({ state }: { state: RolloutState }) {
  const id = state.rolloutId;
  const [reason, setReason] = useState('');
  const [weight, setWeight] = useState(String(state.weight));
  const queryClient = useQueryClient();
  const act = useMutation({
    mutationFn: (action: Action) => {
      const params = { path: { id } };
      const why = reason.trim() ? { reason: reason.trim() } : {};
      switch (action) {
        case 'promote':
          return answer<RolloutState>(api.POST('/api/rollouts/{id}/promote', { params, body: why }));
        case 'pause':
          return answer<RolloutState>(api.POST('/api/rollouts/{id}/pause', { params, body: why }));
        case 'resume':
          return answer<RolloutState>(api.POST('/api/rollouts/{id}/resume', { params, body: why }));
        case 'abort':
          return answer<RolloutState>(api.POST('/api/rollouts/{id}/abort', { params, body: why }));
        case 'weight':
          return answer<RolloutState>(
            api.POST('/api/rollouts/{id}/weight', { params, body: { ...why, weight: Number(weight) } }),
          );
      }
    },
    onSuccess: (next) => {
      queryClient.setQueryData(['rollout', id], next);
      return queryClient.invalidateQueries({ queryKey: ['rollout', id] });
    },
  });
  const busy = act.isPending;
  return (
    <form
      class="controls"
      aria-labelledby="controls"
      onSubmit={(event) => {
        event.preventDefault();
        act.mutate('weight');
      }}
    >
      <h2 id="controls">Operator actions</h2>
      <label for="action-reason">Reason (kept in the audit log)</label>
      <input
        id="action-reason"
        type="text"
        value={reason}
        onInput={(e) => setReason(e.currentTarget.value)}
      />
      <div class="toolbar">
        <button type="button" disabled={busy} onClick={() => act.mutate('promote')}>
          Promote
        </button>
        <button type="button" class="secondary" disabled={busy} onClick={() => act.mutate('pause')}>
          Pause
        </button>
        <button type="button" class="secondary" disabled={busy} onClick={() => act.mutate('resume')}>
          Resume
        </button>
        <button type="button" class="danger" disabled={busy} onClick={() => act.mutate('abort')}>
          Abort and roll back
        </button>
      </div>
      <div class="toolbar">
        <label class="inline" for="set-weight">
          Candidate weight (%)
        </label>
        <input
          id="set-weight"
          type="number"
          min={0}
          max={100}
          step={1}
          required
          value={weight}
          onInput={(e) => setWeight(e.currentTarget.value)}
        />
        <button type="submit" class="secondary" disabled={busy}>
          Set weight
        </button>
      </div>
      {act.isError && (
        <p class="error" role="alert">
          {act.error.message}
        </p>
      )}
      {act.data && !act.isError && (
        <p role="status">
          Done: the rollout is {act.data.phase.replace(/_/g, ' ')} at {act.data.weight}%.
        </p>
      )}
    </form>
  );
}
