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

const TEXT_FILTERS = [
  'agent',
  'from',
  'to',
  'cluster',
  'promptName',
  'promptVersion',
  'q',
  'coaching',
] as const;

/** The coaching filter's two choices that name no coaching: some coaching applied, or none. */
export const COACHING_APPLIED = { any: 'Some coaching applied', none: 'No coaching applied' } as const;
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

/** The time presets of the search: a window that ends now, as long as its name says. */
export const TIME_RANGES = {
  '1h': { label: 'Last hour', ms: 3_600_000 },
  '24h': { label: 'Last 24 hours', ms: 86_400_000 },
  '7d': { label: 'Last 7 days', ms: 7 * 86_400_000 },
} as const;
export type TimeRange = keyof typeof TIME_RANGES;
const RANGE_NAMES = Object.keys(TIME_RANGES) as TimeRange[];

/**
 * What a trace search page's address says: the API's filters, and a preset time range
 * (`range=24h`) that the page turns into `from` when it loads, so a shared link to "the last
 * 24 hours" means the 24 hours before it is opened. A preset replaces `from` and `to`.
 */
export interface SearchState {
  filters: TraceFilters;
  range?: TimeRange;
}

export function searchStateOf(search: string): SearchState {
  const filters = filtersOf(search);
  const range = oneOf(RANGE_NAMES, new URLSearchParams(search).get('range'));
  if (!range) return { filters };
  const { from: _from, to: _to, ...rest } = filters;
  return { filters: rest, range };
}

/** The page address's query string of a search, the preset included. */
export function pageSearchOf(state: SearchState): string {
  const text = searchOf(state.range ? { ...state.filters, from: undefined, to: undefined } : state.filters);
  if (!state.range) return text;
  return `${text ? `${text}&` : '?'}range=${state.range}`;
}

/** The filters GET /api/traces gets: a preset becomes the window [now − range, now). */
export function queryFiltersOf(state: SearchState, nowMs: number): TraceFilters {
  if (!state.range) return state.filters;
  return { ...state.filters, from: new Date(nowMs - TIME_RANGES[state.range].ms).toISOString() };
}
