import { useQueries, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect } from 'preact/hooks';
import { holds, useMe } from '../session.js';
import { answer, api } from './client.js';
import type {
  Agent,
  CycleSummary,
  QueueDetails,
  QueueItem,
  QueueItemSummary,
  QueueSummary,
  SuggestionAnswer,
  TraceDetail,
} from './types.js';

/** The console's reads, one hook per API route, keyed so a label refreshes what it changed. */

/** What a list over several requests looks like to a page: one loading state, one error, one list. */
export interface ListState<T> {
  isPending: boolean;
  isError: boolean;
  error: Error | null;
  data: T[] | undefined;
}

/**
 * A list route over agents (`?agent=`): a person with a global role asks once; a person with
 * roles for some agents asks per agent, as the API wants (a list over every agent needs a
 * global role), and the answers are merged.
 */
export function usePerAgent<T>(
  key: string,
  fetch: (agent: string | undefined) => Promise<T[]>,
): ListState<T> {
  const me = useMe();
  const scopes = holds(me.grants, 'viewer', null)
    ? [undefined]
    : [...new Set(me.grants.map((g) => g.agent).filter((a): a is string => a !== null))].sort();
  const results = useQueries({
    queries: scopes.map((agent) => ({ queryKey: [key, agent ?? null], queryFn: () => fetch(agent) })),
  });
  const failed = results.find((r) => r.isError);
  return {
    isPending: results.some((r) => r.isPending),
    isError: failed !== undefined,
    error: failed?.error ?? null,
    data: results.every((r) => r.data) ? results.flatMap((r) => r.data ?? []) : undefined,
  };
}

export const useQueues = () =>
  usePerAgent('queues', async (agent) =>
    (
      await answer<{ queues: QueueSummary[] }>(
        api.GET('/api/queues', { params: { query: agent ? { agent } : {} } }),
      )
    ).queues.sort((a, b) => b.created_at.localeCompare(a.created_at)),
  );

export const useQueue = (id: string) =>
  useQuery({
    queryKey: ['queue', id],
    queryFn: () => answer<QueueDetails>(api.GET('/api/queues/{id}', { params: { path: { id } } })),
  });

/** A queue's items as its list shows them (no traces: a thousand items stay light). */
export const useQueueItems = (id: string, reviewer?: string) =>
  useQuery({
    queryKey: ['queue', id, 'items', reviewer ?? null],
    queryFn: async () =>
      (
        await answer<{ items: QueueItemSummary[] }>(
          api.GET('/api/queues/{id}/item-summaries', {
            params: { path: { id }, query: reviewer ? { reviewer } : {} },
          }),
        )
      ).items,
  });

/** One item in full, loaded when it is opened; under its queue's key, so a label refreshes it. */
export const useQueueItem = (queueId: string, itemId: string) =>
  useQuery({
    queryKey: ['queue', queueId, 'item', itemId],
    queryFn: () => answer<QueueItem>(api.GET('/api/items/{id}', { params: { path: { id: itemId } } })),
  });

/**
 * The teacher's suggested label for an item, asked for when a reviewer labels it. The answer
 * is kept by the API; here it is asked once per page life (`staleTime` forever), and the item
 * page asks for the next open item's in advance so a slow model has answered by then.
 */
export const suggestionQuery = (itemId: string) => ({
  queryKey: ['suggestion', itemId],
  // Aborted when nobody waits for it any more (the reviewer moved on before it answered).
  queryFn: ({ signal }: { signal: AbortSignal }) =>
    answer<SuggestionAnswer>(
      api.POST('/api/items/{id}/suggestion', { params: { path: { id: itemId } }, body: {}, signal }),
    ),
  // A suggestion is kept by the API; "none" (a timeout, no model) is asked again next time.
  staleTime: (query: { state: { data?: SuggestionAnswer | undefined } }) =>
    query.state.data?.suggestion ? Infinity : 0,
  retry: false,
});

export const useLabelSuggestion = (itemId: string, enabled: boolean) =>
  useQuery({ ...suggestionQuery(itemId), enabled });

/**
 * Asks ahead for the suggestion of the item the reviewer goes to next, once they have stayed
 * on the page a moment (not on a glance): the next open item from the item page, and the item
 * a "Label" button opens from the home and queue pages, without which item 1 had only its
 * reading time to hide a slow model (bench:labeling with a 30 s teacher: item 1 waited
 * 13.7 s, the others none). Items the evaluators passed get no suggestion.
 */
export function useSuggestionAhead(
  item: Pick<QueueItemSummary, 'id' | 'verdict'> | undefined,
  enabled: boolean,
  afterMs = 1500,
): void {
  const queryClient = useQueryClient();
  const wanted = enabled && item !== undefined && item.verdict !== 'pass' ? item.id : null;
  useEffect(() => {
    if (wanted === null) return;
    const ahead = setTimeout(() => void queryClient.prefetchQuery(suggestionQuery(wanted)), afterMs);
    return () => clearTimeout(ahead);
  }, [wanted]);
}

export const useTrace = (id: string | undefined) =>
  useQuery({
    queryKey: ['trace', id],
    enabled: id !== undefined,
    queryFn: () => answer<TraceDetail>(api.GET('/api/traces/{id}', { params: { path: { id: id ?? '' } } })),
    staleTime: 60_000,
  });

export const useCycles = () =>
  usePerAgent(
    'cycles',
    async (agent) =>
      (
        await answer<{ cycles: CycleSummary[] }>(
          api.GET('/api/cycles', { params: { query: agent ? { agent } : {} } }),
        )
      ).cycles,
  );

export const useAgents = () =>
  useQuery({
    queryKey: ['agents'],
    queryFn: async () => (await answer<{ data: Agent[] }>(api.GET('/api/agents'))).data,
  });

/** Items a reviewer still has to label: not complete and not labelled by them. */
export const openFor = <T extends Pick<QueueItemSummary, 'status' | 'labelledBy'>>(
  items: readonly T[],
  reviewer: string,
): T[] => items.filter((i) => i.status !== 'complete' && !(i.labelledBy ?? []).includes(reviewer));
