import { cancellationSignal } from '@temporalio/activity';
import { outcomeMatch } from '../evaluation/evaluator.js';
import type { JudgeRubric } from '../evaluation/judge-rubrics.js';
import { activeRubric } from '../evaluation/store/rubric-repository.js';
import { AgentAction, ChatMessage } from '../schemas/trace.js';
import type { ActivityDeps } from './activity-deps.js';
import { boundedMap } from '../llm/bounded-map.js';
import { judgeWithRubric } from '../llm/rubric-judge.js';

/** The rubric online judging uses: the same task-completion rubric the gate is calibrated on. */
const ONLINE_DIMENSION = 'task_completion';

/** The agent's active rubric version: a rolled-back rubric judges live traffic too. Read once per activity. */
export const onlineRubric = (db: ActivityDeps['db'], agent: string) =>
  activeRubric(db, agent, ONLINE_DIMENSION);

export interface JudgeableTrace {
  input: unknown;
  expected?: unknown;
}

/** The recorded conversation of a stored trace; null when it has none to judge. */
export function traceMessages(input: unknown): ChatMessage[] | null {
  const parsed = ChatMessage.array().safeParse((input as { messages?: unknown } | null)?.messages);
  return parsed.success && parsed.data.length > 0 ? parsed.data : null;
}

/**
 * Whether one agent step completed the task: a gold expectation recorded on the trace
 * decides when there is one (code beats the judge), else the task-completion judge.
 * null: not judgeable (no messages, or the judge's answer was an evaluator error).
 */
export async function stepPasses(
  deps: Pick<ActivityDeps, 'llm'>,
  rubric: JudgeRubric,
  trace: JudgeableTrace,
  step: AgentAction,
  seed: number,
): Promise<boolean | null> {
  const expected = AgentAction.safeParse(trace.expected);
  if (expected.success) return outcomeMatch(expected.data, step).value === 1;
  const messages = traceMessages(trace.input);
  if (!messages) return null;
  const { result } = await judgeWithRubric(
    deps.llm.judge,
    rubric,
    { messages, steps: [step] },
    { seed, repeats: 1, examples: [], price: { input: 0, output: 0 }, signal: cancellationSignal() },
  );
  return result && 'score' in result ? result.label === 'pass' : null;
}

/** Judges live traces as they were served; unjudgeable ones are left out. */
export async function judgeSampledTraces(
  deps: Pick<ActivityDeps, 'llm' | 'llmConcurrency' | 'db'>,
  agent: string,
  traces: readonly { input: unknown; output: unknown }[],
  seed: number,
): Promise<boolean[]> {
  const rubric = await onlineRubric(deps.db, agent);
  const verdicts = await boundedMap(traces, deps.llmConcurrency, async (t) => {
    const step = AgentAction.safeParse(t.output);
    return step.success ? stepPasses(deps, rubric, { input: t.input }, step.data, seed) : null;
  });
  return verdicts.filter((v): v is boolean => v !== null);
}
