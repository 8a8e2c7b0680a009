import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { AddedTrace } from '../../../annotation/queue-trace-service.js';
import type { TraceListPage as ServerTraceListPage } from '../../../traces/trace-view.js';
import { answer, api } from './client.js';
import type { paths } from './schema.js';
import type { Json, QueueSummary } from './types.js';

/** The trace page's reads and its one change: search with filters, and "add to queue". */

export type TraceListPage = Json<ServerTraceListPage>;
export type TraceListItem = TraceListPage['traces'][number];
export type Added = Json<AddedTrace>;

type ListQuery = NonNullable<paths['/api/traces']['get']['parameters']['query']>;
/** The filters of GET /api/traces a person sets (paging is the list's business). */
export type TraceFilters = Omit<ListQuery, 'cursor' | 'limit'>;

export const STATUSES = ['ok', 'error'] as const satisfies readonly NonNullable<TraceFilters['status']>[];
export const OUTCOMES = ['success', 'failure', 'escalated', 'error'] as const satisfies readonly NonNullable<
  TraceFilters['outcome']
>[];
export const FEEDBACK = ['positive', 'negative', 'neutral', 'none'] as const satisfies readonly NonNullable<
  TraceFilters['feedback']
>[];

const TEXT_FILTERS = ['agent', 'from', 'to', 'cluster', 'promptName', 'promptVersion', 'q'] as const;
const oneOf = <T extends string>(values: readonly T[], value: string | null): T | undefined =>
  values.find((v) => v === value);

/**
 * The filters a page address carries (`/console/traces?agent=…`), so a search is a link
 * that can be shared or reloaded. A value the API does not take as a choice is left out; the
 * API checks the rest and says what is wrong.
 */
export function filtersOf(search: string): TraceFilters {
  const params = new URLSearchParams(search);
  const filters: TraceFilters = {};
  for (const name of TEXT_FILTERS) {
    const value = params.get(name)?.trim();
    if (value) filters[name] = value;
  }
  const status = oneOf(STATUSES, params.get('status'));
  if (status) filters.status = status;
  const outcome = oneOf(OUTCOMES, params.get('outcome'));
  if (outcome) filters.outcome = outcome;
  const feedback = oneOf(FEEDBACK, params.get('feedback'));
  if (feedback) filters.feedback = feedback;
  return filters;
}

/** The query string of a search, in a fixed order (so equal searches share a cache entry). */
export function searchOf(filters: TraceFilters): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(filters).sort(([a], [b]) => a.localeCompare(b)))
    if (typeof value === 'string' && value.trim() !== '') params.set(name, value.trim());
  const text = params.toString();
  return text ? `?${text}` : '';
}

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
