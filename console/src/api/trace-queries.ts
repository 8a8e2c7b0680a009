import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { AddedTrace, AddedTraces } from '../../../annotation/queue-trace-service.js';
import type { TraceListPage as ServerTraceListPage } from '../../../traces/trace-view.js';
import { answer, api } from './client.js';
import type { Cluster } from './cluster-choices.js';
import { searchOf, type TraceFilters } from './trace-filters.js';
import type { Json, QueueSummary } from './types.js';

/** The trace pages' reads and their changes: search with filters, clusters to pick, "add to queue". */

export type TraceListPage = Json<ServerTraceListPage>;
export type TraceListItem = TraceListPage['traces'][number];
export type Added = Json<AddedTrace>;
export type AddedMany = Json<AddedTraces>;

/** Traces matching the filters, newest first, a page at a time ("Show older traces"). */
export const useTraceSearch = (filters: TraceFilters) =>
  useInfiniteQuery({
    queryKey: ['traces', searchOf(filters)],
    initialPageParam: null as string | null,
    queryFn: ({ pageParam }) =>
      answer<TraceListPage>(
        api.GET('/api/traces', {
          params: { query: { ...filters, ...(pageParam ? { cursor: pageParam } : {}) } },
        }),
      ),
    getNextPageParam: (last) => last.nextCursor,
  });

/** POST /api/queues/{id}/items: the trace joins the queue; the API records who added it. */
export function useAddToQueue(traceId: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (queueId: string) =>
      answer<Added>(
        api.POST('/api/queues/{id}/items', { params: { path: { id: queueId } }, body: { traceId } }),
      ),
    onSuccess: (added) => {
      void queryClient.invalidateQueries({ queryKey: ['trace', traceId] });
      void queryClient.invalidateQueries({ queryKey: ['queue', added.queueId] });
      void queryClient.invalidateQueries({ queryKey: ['queues'] });
    },
  });
}

/** The agent's queues that take items now (GET /api/queues?agent=, open ones). */
export const useOpenQueues = (agent: string | undefined, enabled: boolean) =>
  useQuery({
    queryKey: ['queues', agent ?? null, 'open'],
    enabled: enabled && agent !== undefined,
    queryFn: async () =>
      (
        await answer<{ queues: QueueSummary[] }>(api.GET('/api/queues', { params: { query: { agent } } }))
      ).queues.filter((q) => q.status === 'open'),
  });

/**
 * POST /api/queues/{id}/items/batch: the selected traces join the queue; each refused one
 * comes back with its reason (207) and the others are added.
 */
export function useAddManyToQueue() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: ({ queueId, traceIds }: { queueId: string; traceIds: string[] }) =>
      answer<AddedMany>(
        api.POST('/api/queues/{id}/items/batch', { params: { path: { id: queueId } }, body: { traceIds } }),
      ),
    onSuccess: (result) => {
      for (const added of result.added)
        void queryClient.invalidateQueries({ queryKey: ['trace', added.traceId] });
      void queryClient.invalidateQueries({ queryKey: ['queue', result.queueId] });
      void queryClient.invalidateQueries({ queryKey: ['queues'] });
    },
  });
}

/** The failure clusters of the agent's newest cycles (GET /api/agents/{id}/clusters), to pick one. */
export const useAgentClusters = (agent: string | undefined) =>
  useQuery({
    queryKey: ['agent', agent ?? null, 'clusters'],
    enabled: agent !== undefined,
    queryFn: async () =>
      (
        await answer<{ agent: string; clusters: Cluster[] }>(
          api.GET('/api/agents/{id}/clusters', { params: { path: { id: agent ?? '' } } }),
        )
      ).clusters,
    staleTime: 60_000,
  });
