import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { AddedTrace } from '../../../annotation/queue-trace-service.js';
import type { TraceListPage as ServerTraceListPage } from '../../../traces/trace-view.js';
import { answer, api } from './client.js';
import { searchOf, type TraceFilters } from './trace-filters.js';
import type { Json, QueueSummary } from './types.js';

/** The trace pages' reads and their one change: search with filters, and "add to queue". */

export type TraceListPage = Json<ServerTraceListPage>;
export type TraceListItem = TraceListPage['traces'][number];
export type Added = Json<AddedTrace>;

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
