import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { AgentAction } from '../../schemas/trace.js';

const Action = z.object({
  name: z.string().min(1),
  description: z.string(),
  parameters: z.record(z.string(), z.unknown()),
});

const Rule = z.object({
  id: z.string().min(1),
  category: z.string().min(1),
  description: z.string(),
  /** Any of these in the system prompt (case-insensitive) makes the agent follow the rule. */
  fixingPhrases: z.array(z.string().min(1)).min(1),
  /** Words the simulated teacher recognises in a failure report. */
  symptoms: z.array(z.string().min(1)).min(1),
  /** What the simulated judge says when it catches this failure. */
  judgeRationale: z.string(),
  /** What a user writes when this failure hits them (thumbs-down comment). */
  feedback: z.array(z.string()).min(1),
  /** Judge rubrics this mode fails besides task_completion (default: by category). */
  judgeDimensions: z.array(z.string()).optional(),
  /** Where the simulated teacher's diagnosis files it (default: by category). */
  taxonomy: z.object({ category: z.string(), subtype: z.string() }).optional(),
  /** The cheapest fix the diagnosis names (default: prompt). */
  rung: z.enum(['prompt', 'tool', 'context', 'fine_tune', 'rl']).optional(),
});

const OverBroad = z.object({
  phrase: z.string().min(1),
  fixes: z.array(z.string()),
  breaks: z.object({ tags: z.array(z.string()).min(1), action: AgentAction }),
});

const Example = z.object({
  id: z.string().min(1),
  request: z.string().min(1),
  rule: z.string().nullable(),
  tags: z.array(z.string()).default([]),
  expected: AgentAction,
  wrong: AgentAction,
  reply: z.string().default('Thank you for contacting us.'),
});

export const Scenario = z
  .object({
    name: z.string().min(1),
    description: z.string(),
    seed: z.number().int().nonnegative(),
    agentId: z.string().min(1),
    basePrompt: z.string().min(1),
    actions: z.array(Action).min(1),
    rules: z.array(Rule),
    overBroad: z.array(OverBroad).default([]),
    distractors: z.array(z.string()).min(1),
    examples: z.array(Example).min(1),
    noise: z.object({
      agent: z.number().min(0).max(1),
      judge: z.number().min(0).max(1),
      feedback: z.number().min(0).max(1),
    }),
    teacher: z.object({ precision: z.number().min(0).max(1) }),
    traffic: z.object({
      expectedShare: z.number().min(0).max(1),
      positiveFeedbackShare: z.number().min(0).max(1),
    }),
  })
  .superRefine((s, ctx) => {
    const rules = new Set(s.rules.map((r) => r.id));
    const ids = new Set<string>();
    s.examples.forEach((e, i) => {
      if (e.rule !== null && !rules.has(e.rule)) {
        ctx.addIssue({ code: 'custom', path: ['examples', i, 'rule'], message: `unknown rule ${e.rule}` });
      }
      if (ids.has(e.id))
        ctx.addIssue({ code: 'custom', path: ['examples', i, 'id'], message: `duplicate id ${e.id}` });
      ids.add(e.id);
    });
  });
export type Scenario = z.infer<typeof Scenario>;

/** The scenario's actions as the agent's tools (name, description, JSON-schema parameters). */
export function scenarioTools(scenario: Pick<Scenario, 'actions'>) {
  return scenario.actions.map((a) => ({
    name: a.name,
    description: a.description,
    parameters: a.parameters,
  }));
}

export function loadScenario(file: string): Scenario {
  const parsed = Scenario.safeParse(JSON.parse(readFileSync(file, 'utf8')));
  if (!parsed.success) {
    throw new Error(`Scenario ${file} is invalid:\n${z.prettifyError(parsed.error)}`);
  }
  return parsed.data;
}

export const AIRLINE_SCENARIO = new URL('./scenarios/airline.json', import.meta.url).pathname;
