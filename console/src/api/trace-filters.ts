import type { paths } from './schema.js';

/** The trace search's filters as a page address carries them; pure, so unit tests read it too. */

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
