import { z } from 'zod';

/** Columns a predicate may name directly; anything else is a key of the trace attributes. */
export const PREDICATE_COLUMNS = [
  'latency_ms',
  'cost_usd',
  'reward',
  'input_tokens',
  'output_tokens',
  'model',
  'status',
  'outcome',
  'prompt_version',
  'feedback',
] as const;

const PREDICATE_PATTERN = /^\s*([A-Za-z_][A-Za-z0-9_.-]*)\s*(>=|<=|!=|=|>|<|contains)\s*(.+?)\s*$/;

export interface Predicate {
  field: string;
  op: '>' | '>=' | '<' | '<=' | '=' | '!=' | 'contains';
  value: number | string | boolean;
}

/**
 * Parses one comparison such as `refund_amount > 500`, `tier = "gold"` or
 * `error.type contains timeout`. A deliberately small language: it compiles to a
 * parameterized SQL condition, so no configuration text ever reaches SQL as code.
 */
export function parsePredicate(text: string): Predicate {
  const m = PREDICATE_PATTERN.exec(text);
  if (!m) {
    throw new Error(
      `Cannot read the predicate "${text}": write <attribute> <op> <value> with op one of > >= < <= = != contains, e.g. "refund_amount > 500".`,
    );
  }
  const field = m[1] ?? '';
  const op = (m[2] ?? '=') as Predicate['op'];
  const raw = m[3] ?? '';
  let value: Predicate['value'];
  if (/^".*"$|^'.*'$/.test(raw)) value = raw.slice(1, -1);
  else if (raw === 'true' || raw === 'false') value = raw === 'true';
  else if (raw !== '' && Number.isFinite(Number(raw))) value = Number(raw);
  else value = raw;
  if (['>', '>=', '<', '<='].includes(op) && typeof value !== 'number') {
    throw new Error(`The predicate "${text}" compares with ${op}, which needs a number on the right.`);
  }
  return { field, op, value };
}

export const Stratum = z.object({
  name: z.string().regex(/^[a-z][a-z0-9_]*$/, 'stratum names are lowercase identifiers, e.g. big_refund'),
  /** Comparisons joined by `and`, e.g. `refund_amount > 500 and tier = "gold"`. */
  where: z.string().superRefine((text, ctx) => {
    for (const part of text.split(/\s+and\s+/i)) {
      try {
        parsePredicate(part);
      } catch (e) {
        ctx.addIssue({ code: 'custom', message: e instanceof Error ? e.message : String(e) });
      }
    }
  }),
});
export type Stratum = z.infer<typeof Stratum>;

/**
 * How a cycle picks its traces. Always-sampled strata come first, then a hash-based
 * random share of the rest; caps, the maximum size and deduplication apply to both.
 */
export const SamplingPolicy = z.object({
  /** Share of ordinary traffic sampled at random; samples nest as the rate grows. */
  rate: z.number().min(0).max(1).default(0.05),
  /** The most traces one cycle samples; strata share it by `allocation` when it binds. */
  maxSample: z.number().int().positive().default(500),
  /** When the cap binds, keep at least this share for random traffic (an unbiased baseline). */
  minRandomShare: z.number().min(0).max(1).default(0.1),
  allocation: z.enum(['proportional', 'equal']).default('proportional'),
  strata: z
    .object({
      negativeFeedback: z.boolean().default(true),
      escalations: z.boolean().default(true),
      errors: z.boolean().default(true),
      custom: z.array(Stratum).default([]),
    })
    .prefault({}),
  /**
   * Leave out traces an earlier cycle of the agent already sampled. Reviewers then never see
   * a trace twice, and a cycle started before a week has passed (or with overlapping windows)
   * samples what is new instead of what the last optimizer trained on.
   */
  skipSampledBefore: z.boolean().default(true),
  /** At most this many sampled traces per user; null for no cap. */
  perUserCap: z.number().int().positive().nullable().default(null),
  dedup: z
    .object({
      exact: z.boolean().default(true),
      near: z.boolean().default(true),
      /** Estimated Jaccard similarity of normalized inputs at which two traces are one. */
      threshold: z.number().min(0.1).max(1).optional(),
    })
    .prefault({}),
});
export type SamplingPolicy = z.infer<typeof SamplingPolicy>;
