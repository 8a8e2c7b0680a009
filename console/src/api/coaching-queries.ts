import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type {
  CoachingEffect as ServerEffect,
  MarkResult,
} from '../../../coaching/coaching-effect-service.js';
import type { CoachingHistoryEntry, CoachingView } from '../../../coaching/coaching-service.js';
import { answer, api } from './client.js';
import type { Json } from './types.js';

/**
 * The coaching pages' reads and changes. Keys start with `['agent', agent, 'coaching']`, which
 * the "provide coaching" form refreshes too, so every change of a coaching (a new one, a mark
 * that moved its threshold, a retirement, a promotion) refreshes the list, the coaching and
 * its effect at once.
 */

// Answer types from the services that produce them, type-only (see types.ts).
export type Coaching = Json<CoachingView>;
export type CoachingVersion = Json<CoachingHistoryEntry>;
export type CoachingEffect = Json<ServerEffect>;
export type CoachingApplication = CoachingEffect['applied']['shown'][number];
export type CoachingMarkResult = Json<MarkResult>;
export type CoachingStatus = Coaching['status'];
export type MarkVerdict = CoachingMarkResult['mark']['verdict'];

export const COACHING_STATUSES = [
  'active',
  'candidate',
  'retired',
] as const satisfies readonly CoachingStatus[];

const coachingKey = (agent: string) => ['agent', agent, 'coaching'] as const;

/** GET /api/agents/{id}/coaching: every coaching at its current version, or those of one status. */
export const useCoachingList = (agent: string | undefined, status?: CoachingStatus) =>
  useQuery({
    queryKey: [...coachingKey(agent ?? ''), 'list', status ?? null],
    enabled: agent !== undefined,
    queryFn: async () =>
      (
        await answer<{ data: Coaching[] }>(
          api.GET('/api/agents/{id}/coaching', {
            params: { path: { id: agent ?? '' }, query: status ? { status } : {} },
          }),
        )
      ).data,
  });

/** GET /api/agents/{id}/coaching/{coaching}: the coaching at its current version and every version. */
export const useCoaching = (agent: string, id: string) =>
  useQuery({
    queryKey: [...coachingKey(agent), 'one', id],
    queryFn: () =>
      answer<{ coaching: Coaching; versions: CoachingVersion[] }>(
        api.GET('/api/agents/{id}/coaching/{coaching}', { params: { path: { id: agent, coaching: id } } }),
      ),
  });

/** GET /api/agents/{id}/coaching/{coaching}/effect: where it applied and how those conversations went. */
export const useCoachingEffect = (agent: string, id: string, days: number) =>
  useQuery({
    queryKey: [...coachingKey(agent), 'effect', id, days],
    queryFn: () =>
      answer<CoachingEffect>(
        api.GET('/api/agents/{id}/coaching/{coaching}/effect', {
          params: { path: { id: agent, coaching: id }, query: { days: String(days) } },
        }),
      ),
  });

/** POST …/marks: a reviewer says whether one application was correct; the threshold may move. */
export function useMarkCoaching(agent: string, id: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (mark: { traceId: string; verdict: MarkVerdict }) =>
      answer<CoachingMarkResult>(
        api.POST('/api/agents/{id}/coaching/{coaching}/marks', {
          params: { path: { id: agent, coaching: id } },
          body: mark,
        }),
      ),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: coachingKey(agent) }),
  });
}

export type StatusMove = 'retire' | 'promote';

/** POST …/retire (reviewers) or …/promote (approvers, candidates only), with the reason. */
export function useMoveCoaching(agent: string, id: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: ({ move, reason }: { move: StatusMove; reason: string }) => {
      const params = { path: { id: agent, coaching: id } };
      return answer<{ coaching: Coaching }>(
        move === 'retire'
          ? api.POST('/api/agents/{id}/coaching/{coaching}/retire', { params, body: { reason } })
          : api.POST('/api/agents/{id}/coaching/{coaching}/promote', { params, body: { reason } }),
      );
    },
    onSuccess: () => queryClient.invalidateQueries({ queryKey: coachingKey(agent) }),
  });
}
