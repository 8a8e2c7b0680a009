import { z } from 'zod';
import { formatIssues } from './format-issues.js';
import { UserError } from './user-error.js';

/**
 * The filters of `GET /api/traces` and `flywheel trace list`, parsed from query-string
 * values. Every value arrives as text, so each field says in its own error what to send;
 * unknown and repeated parameters are refused rather than ignored, because a misspelt
 * filter that silently lists everything looks like an answer.
 */

export const TRACE_LIST_DEFAULT_LIMIT = 50;
export const TRACE_LIST_MAX_LIMIT = 200;

export const TRACE_FEEDBACK_FILTERS = ['positive', 'negative', 'neutral', 'none'] as const;
export type TraceFeedbackFilter = (typeof TRACE_FEEDBACK_FILTERS)[number];

/** Where the previous page ended: the last trace's exact start (microseconds) and id. */
export const TraceCursor = z.strictObject({
  t: z.iso.datetime({ offset: true, precision: 6 }),
  i: z.string().min(1),
});
export type TraceCursor = z.infer<typeof TraceCursor>;

export function encodeTraceCursor(cursor: TraceCursor): string {
  return Buffer.from(JSON.stringify(cursor), 'utf8').toString('base64url');
}

/** The cursor a page handed out, or undefined when the text is not one. */
export function decodeTraceCursor(text: string): TraceCursor | undefined {
  if (!/^[A-Za-z0-9_-]+$/.test(text)) return undefined;
  try {
    const parsed = TraceCursor.safeParse(JSON.parse(Buffer.from(text, 'base64url').toString('utf8')));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

const instant = (name: string) =>
  z
    .string()
    .refine(
      (s) => z.iso.datetime({ offset: true }).safeParse(s).success || z.iso.date().safeParse(s).success,
      {
        error: `${name} must be an ISO 8601 time with a zone, e.g. 2026-03-01T09:00:00Z, or a UTC date, e.g. 2026-03-01`,
      },
    )
    // A bare date means midnight UTC, which is how the traces table splits days.
    .transform((s) => (s.length === 10 ? `${s}T00:00:00.000Z` : new Date(s).toISOString()));

const choice = <const T extends readonly [string, ...string[]]>(name: string, values: T) =>
  z.enum(values, { error: `${name} must be one of ${values.join(', ')}` });

const wholeNumber = (name: string, min: number, max: number, example: number) =>
  z
    .string()
    .regex(/^\d{1,9}$/, { error: `${name} must be a whole number from ${min} to ${max}, e.g. ${example}` })
    .transform(Number)
    .pipe(
      z
        .number()
        .min(min, { error: `${name} must be a whole number from ${min} to ${max}, e.g. ${example}` })
        .max(max, { error: `${name} must be a whole number from ${min} to ${max}, e.g. ${example}` }),
    );

/** A coaching id, one of its versions (`id@version`, as traces carry it), `any` or `none`. */
const COACHING_FILTER = /^(any|none|[A-Za-z0-9_-]{1,100}(@[1-9][0-9]{0,8})?)$/;

/** Which coaching a listed trace applied (its `flywheel.coaching.ids`), or that it applied some or none. */
export type TraceCoachingFilter = 'any' | 'none' | { id: string; version?: number };

export function parseCoachingFilter(value: string): TraceCoachingFilter {
  if (value === 'any' || value === 'none') return value;
  const at = value.lastIndexOf('@');
  return at < 0 ? { id: value } : { id: value.slice(0, at), version: Number(value.slice(at + 1)) };
}

const text = (name: string, max: number) =>
  z
    .string()
    .trim()
    .min(1, { error: `${name} must not be empty; leave it out to list every value` })
    .max(max, { error: `${name} must be at most ${max} characters` });

export const TraceListQueryFields = z.strictObject({
  agent: text('agent', 100).optional(),
  from: instant('from').optional(),
  to: instant('to').optional(),
  status: choice('status', ['ok', 'error']).optional(),
  outcome: choice('outcome', ['success', 'failure', 'escalated', 'error']).optional(),
  feedback: choice('feedback', TRACE_FEEDBACK_FILTERS).optional(),
  cluster: text('cluster', 200).optional(),
  promptName: text('promptName', 200).optional(),
  promptVersion: wholeNumber('promptVersion', 1, 999_999_999, 3).optional(),
  q: text('q', 200).optional(),
  coaching: z
    .string()
    .trim()
    .regex(COACHING_FILTER, {
      error:
        'coaching must be a coaching id (coa_…), one of its versions (coa_…@3), any (traces that applied some coaching) or none (traces that applied none)',
    })
    .optional()
    .describe(
      'Traces that applied this coaching (any version of coa_…, or coa_…@3 for one), any coaching (any) or none (none), as their flywheel.coaching.ids attribute says',
    ),
  cursor: z
    .string()
    .transform((s, ctx) => {
      const cursor = decodeTraceCursor(s);
      if (!cursor)
        ctx.addIssue({
          code: 'custom',
          message:
            'cursor is not one this API handed out: pass the previous page’s nextCursor unchanged, or leave cursor out to start from the newest trace',
        });
      return cursor ?? z.NEVER;
    })
    .optional(),
  limit: wholeNumber('limit', 1, TRACE_LIST_MAX_LIMIT, TRACE_LIST_DEFAULT_LIMIT).optional(),
});

export const TRACE_LIST_PARAMETERS = Object.keys(
  TraceListQueryFields.shape,
) as (keyof typeof TraceListQueryFields.shape)[];

/** The parsed filter: times as UTC ISO strings, the window half-open [from, to). */
export interface TraceListFilter {
  agent?: string;
  from?: string;
  to?: string;
  status?: 'ok' | 'error';
  outcome?: 'success' | 'failure' | 'escalated' | 'error';
  feedback?: TraceFeedbackFilter;
  /** A cluster id or a stable cluster id, matched against the latest cycle that clustered a trace. */
  cluster?: string;
  /** The trace's prompt name; a trace without one counts as the agent's own prompt (named after it). */
  promptName?: string;
  promptVersion?: number;
  /** Case-insensitive text that some string of the trace's input or output contains. */
  text?: string;
  coaching?: TraceCoachingFilter;
  after?: TraceCursor;
  limit: number;
}

/**
 * Parses query parameters (a URLSearchParams, or a record from the CLI where undefined means
 * absent) into a filter, or throws a UserError naming every bad parameter and what to send.
 */
export function parseTraceListQuery(
  params: URLSearchParams | Record<string, string | undefined>,
): TraceListFilter {
  const entries: [string, string][] =
    params instanceof URLSearchParams
      ? [...params.entries()]
      : Object.entries(params).filter((e): e is [string, string] => e[1] !== undefined);
  const known = new Set<string>(TRACE_LIST_PARAMETERS);
  const unknown = [...new Set(entries.map(([k]) => k).filter((k) => !known.has(k)))];
  if (unknown.length > 0)
    throw new UserError(
      `Unknown parameter${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `"${k}"`).join(', ')}; the trace list takes ${TRACE_LIST_PARAMETERS.join(', ')}.`,
    );
  const seen = new Set<string>();
  const repeated = new Set<string>();
  for (const [k] of entries) (seen.has(k) ? repeated : seen).add(k);
  if (repeated.size > 0)
    throw new UserError(`Give each parameter once; ${[...repeated].join(', ')} came more than once.`);

  const parsed = TraceListQueryFields.safeParse(Object.fromEntries(entries));
  if (!parsed.success)
    throw new UserError(`Bad trace list query: ${formatIssues(parsed.error, { root: 'query' })}.`);
  const q = parsed.data;
  if (q.from && q.to && q.from >= q.to)
    throw new UserError(
      `Bad trace list query: from (${q.from}) must be before to (${q.to}); the window is [from, to).`,
    );
  const filter: TraceListFilter = { limit: q.limit ?? TRACE_LIST_DEFAULT_LIMIT };
  if (q.agent !== undefined) filter.agent = q.agent;
  if (q.from !== undefined) filter.from = q.from;
  if (q.to !== undefined) filter.to = q.to;
  if (q.status !== undefined) filter.status = q.status;
  if (q.outcome !== undefined) filter.outcome = q.outcome;
  if (q.feedback !== undefined) filter.feedback = q.feedback;
  if (q.cluster !== undefined) filter.cluster = q.cluster;
  if (q.promptName !== undefined) filter.promptName = q.promptName;
  if (q.promptVersion !== undefined) filter.promptVersion = q.promptVersion;
  if (q.q !== undefined) filter.text = q.q;
  if (q.coaching !== undefined) filter.coaching = parseCoachingFilter(q.coaching);
  if (q.cursor !== undefined) filter.after = q.cursor;
  return filter;
}
