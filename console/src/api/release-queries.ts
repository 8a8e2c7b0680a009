import { useQuery } from '@tanstack/react-query';
import { answer, api } from './client.js';
import type { CycleStatus, GateReview, RolloutState, RolloutStep } from './release-types.js';

/**
 * How often a page asks again while a cycle or rollout is moving: a stage change or a new
 * weight shows within this without a reload. A Temporal query per poll is cheap (the workflow
 * answers from memory); pages stop polling once the workflow is finished.
 */
export const LIVE_MS = 2_000;

export const useCycleStatus = (id: string) =>
  useQuery({
    queryKey: ['cycle', id],
    queryFn: () => answer<CycleStatus>(api.GET('/api/cycles/{id}', { params: { path: { id } } })),
    refetchInterval: (query) => (query.state.data && query.state.data.stage === 'done' ? false : LIVE_MS),
  });

/** The gate report and prompt diff: written once per cycle, so fetched once it exists. */
export const useGateReview = (id: string, exists: boolean) =>
  useQuery({
    queryKey: ['cycle', id, 'gate-report'],
    enabled: exists,
    queryFn: () => answer<GateReview>(api.GET('/api/cycles/{id}/gate-report', { params: { path: { id } } })),
    staleTime: Infinity,
  });

export const useTemporalUi = () =>
  useQuery({
    queryKey: ['temporal-ui'],
    queryFn: () => answer<{ url: string | null; namespace: string }>(api.GET('/api/temporal-ui')),
    staleTime: Infinity,
  });

const finished = (state: RolloutState | undefined) =>
  state !== undefined && (state.phase === 'completed' || state.phase === 'rolled_back');

export const useRollout = (id: string) =>
  useQuery({
    queryKey: ['rollout', id],
    queryFn: () => answer<RolloutState>(api.GET('/api/rollouts/{id}', { params: { path: { id } } })),
    refetchInterval: (query) => (finished(query.state.data) ? false : LIVE_MS),
  });

export const useRolloutSteps = (id: string, live: boolean) =>
  useQuery({
    queryKey: ['rollout', id, 'steps'],
    queryFn: async () =>
      (
        await answer<{ steps: RolloutStep[] }>(
          api.GET('/api/rollouts/{id}/steps', { params: { path: { id } } }),
        )
      ).steps,
    refetchInterval: live ? LIVE_MS : false,
  });
