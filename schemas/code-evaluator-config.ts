import { z } from 'zod';

/**
 * Tools that only read (lookups, arithmetic, scratchpad). tau-bench's gold lists name some
 * of them, but its reward compares the final database, and the agents skip, repeat and
 * reorder them freely in passing trajectories — so the gold diff leaves them out on both
 * sides. Anything that matches no pattern here counts as state-changing.
 */
export const DEFAULT_READ_ONLY_TOOLS: readonly string[] = [
  'get_*',
  'search_*',
  'list_*',
  'calculate',
  'think',
];
/** Tools that hand the conversation to a human; their only argument is a free-text summary. */
export const DEFAULT_HANDOFF_TOOLS: readonly string[] = ['transfer_to_human_agents'];
/**
 * Argument keys whose list values are sets: who flies and how the bill is split do not
 * depend on the order they were listed in. `flights` is not here: its order is the itinerary.
 */
export const DEFAULT_UNORDERED_LIST_ARGUMENTS: readonly string[] = ['passengers', 'payment_methods'];

/** A tool name; `*` matches any run of characters (`get_*`). */
const ToolPattern = z
  .string()
  .regex(/^[A-Za-z0-9_.:*-]+$/, 'must be a tool name, optionally with * wildcards (e.g. "get_*")');

export const GoldActionDiffConfig = z.object({
  enabled: z.boolean().default(true),
  readOnlyTools: z.array(ToolPattern).default([...DEFAULT_READ_ONLY_TOOLS]),
  handoffTools: z.array(ToolPattern).default([...DEFAULT_HANDOFF_TOOLS]),
  /**
   * Whether a handoff the gold does not list is an `extra_action`. A handoff is still an
   * action — one the gold lists and the agent skipped is missing, one made in place of a
   * gold action is `wrong_tool` — but it changes no data, and on the tau-bench airline set
   * reporting the unasked-for ones flagged 29 more of the 84 passing trajectories while
   * catching no additional failure (bench:gold-diff). Turn on where escalations cost money.
   */
  flagExtraHandoffs: z.boolean().default(false),
  unorderedListArguments: z.array(z.string().min(1)).default([...DEFAULT_UNORDERED_LIST_ARGUMENTS]),
});
export type GoldActionDiffConfig = z.infer<typeof GoldActionDiffConfig>;
export type GoldActionDiffConfigInput = z.input<typeof GoldActionDiffConfig>;

/**
 * `tool` may only be called after each tool in `requires` was called successfully; with
 * `sameArguments`, that earlier call must carry the same values for those keys (e.g. read
 * the very reservation that is being changed).
 */
export const PreconditionRule = z.object({
  tool: ToolPattern,
  requires: z.array(ToolPattern).min(1, 'must name at least one tool that has to come first'),
  sameArguments: z.array(z.string().min(1)).optional(),
});
export type PreconditionRule = z.infer<typeof PreconditionRule>;

export const TextAssertionType = z.enum([
  'contains',
  'icontains',
  'not-contains',
  'regex',
  'not-regex',
  'equals',
]);
export type TextAssertionType = z.infer<typeof TextAssertionType>;

/** A promptfoo-like check over the agent's final reply (default) or its whole final output. */
export const TextAssertion = z.object({
  type: TextAssertionType,
  value: z.string(),
  /** Regex flags; `g` and `y` are refused because they make `test` stateful. */
  flags: z
    .string()
    .regex(/^[imsuv]*$/, 'may only hold the regex flags i, m, s, u, v')
    .optional(),
  target: z.enum(['reply', 'output']).default('reply'),
});
export type TextAssertion = z.infer<typeof TextAssertion>;
export type TextAssertionInput = z.input<typeof TextAssertion>;

export const ThresholdConfig = z.object({
  /** The whole trace, end to end. */
  maxLatencyMs: z.number().positive().optional(),
  /** Any single span (a slow tool or model call), when the trace has spans. */
  maxSpanLatencyMs: z.number().positive().optional(),
  maxCostUsd: z.number().nonnegative().optional(),
});
export type ThresholdConfig = z.infer<typeof ThresholdConfig>;

/** Why an assertion cannot work as written (and which field is at fault), or null. */
function assertionProblem(a: TextAssertion): { field: 'value' | 'flags'; problem: string } | null {
  const isRegex = a.type === 'regex' || a.type === 'not-regex';
  if (!isRegex) {
    if (a.flags !== undefined) return { field: 'flags', problem: 'flags only apply to regex and not-regex' };
    return a.value === '' && a.type !== 'equals'
      ? { field: 'value', problem: 'an empty value matches every text, so the assertion decides nothing' }
      : null;
  }
  let re: RegExp;
  try {
    re = new RegExp(a.value, a.flags);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    return { field: 'value', problem: `${message}; fix the pattern, or use "contains" for literal text` };
  }
  return re.test('')
    ? { field: 'value', problem: 'the pattern matches the empty string, so it matches every text' }
    : null;
}

/** Which code evaluators an agent runs, and their settings (agent configuration). */
export const CodeEvaluatorConfig = z
  .object({
    goldActionDiff: GoldActionDiffConfig.prefault({}),
    /** Validate every tool call's arguments against the agent's tool JSON schemas. */
    argumentSchemas: z.object({ enabled: z.boolean().default(true) }).prefault({}),
    preconditions: z.array(PreconditionRule).default([]),
    assertions: z.array(TextAssertion).default([]),
    thresholds: ThresholdConfig.prefault({}),
  })
  .superRefine((config, ctx) => {
    config.assertions.forEach((a, i) => {
      const found = assertionProblem(a);
      if (found !== null) {
        const flags = a.flags !== undefined ? ` flags "${a.flags}"` : '';
        ctx.addIssue({
          code: 'custom',
          path: ['assertions', i, found.field],
          message: `assertion #${i} (${a.type} ${JSON.stringify(a.value)}${flags}): ${found.problem}`,
        });
      }
    });
  });
export type CodeEvaluatorConfig = z.infer<typeof CodeEvaluatorConfig>;
export type CodeEvaluatorConfigInput = z.input<typeof CodeEvaluatorConfig>;
