import type { JudgeRubric } from '../evaluation/judge-rubrics.js';
import { boundedMap } from '../llm/bounded-map.js';
import type { LlmClient } from '../llm/llm-client.js';
import { judgeWithRubric } from '../llm/rubric-judge.js';
import { OUTCOME_DIMENSION, type GateConfig } from '../schemas/gate-config.js';
import type { AgentAction, ChatMessage } from '../schemas/trace.js';
import type { ExampleScores } from './gate-score-table.js';

/** One prompt's replayed step on one dataset example, scored on the code dimension. */
export interface GateOutput {
  exampleId: string;
  messages: ChatMessage[];
  step: AgentAction;
  /** outcome_match of the step against the example's expected step. */
  score: number;
  /** The dataset example's slice tags, for per-slice gate assertions. */
  slices: string[];
  /** The coaching memories (ids) recalled into the conversation; absent: none was inserted. */
  recalled?: string[];
}

export interface GateJudgeDeps {
  judge: LlmClient;
  concurrency: number;
  signal?: AbortSignal | undefined;
  /** Called after each judge call (an activity heartbeats here). */
  onProgress?: (judged: number, of: number) => void;
}

/**
 * Per-example scores of one prompt on one split, as the gate reads them: the code dimension
 * from the replay, and every gated judge dimension, run k times with distinct seeds where
 * `repeats` asks for it. A judge error or a "not applicable" leaves the dimension out for
 * that example. The cycle's gate activity and `flywheel eval` both score through here, so
 * a candidate is judged the same way wherever it is gated.
 */
export async function judgeGateOutputs(
  deps: GateJudgeDeps,
  outputs: readonly GateOutput[],
  split: ExampleScores['split'],
  rubrics: readonly JudgeRubric[],
  config: GateConfig,
  seed: number,
): Promise<ExampleScores[]> {
  const jobs = outputs.flatMap((o) =>
    rubrics.flatMap((rubric) =>
      Array.from({ length: config.repeats[rubric.dimension] ?? 1 }, (_, run) => ({ o, rubric, run })),
    ),
  );
  let done = 0;
  const verdicts = await boundedMap(jobs, deps.concurrency, async ({ o, rubric, run }) => {
    const { result } = await judgeWithRubric(
      deps.judge,
      rubric,
      { messages: o.messages, steps: [o.step] },
      {
        seed: seed + run,
        repeats: 1,
        examples: [],
        price: { input: 0, output: 0 },
        signal: deps.signal,
      },
    );
    deps.onProgress?.(++done, jobs.length);
    return {
      exampleId: o.exampleId,
      dimension: rubric.dimension,
      score: result && 'score' in result ? result.score : null,
    };
  });
  const byExample = new Map<string, number[]>();
  for (const v of verdicts) {
    if (v.score === null) continue;
    const key = `${v.exampleId}\u0000${v.dimension}`;
    byExample.set(key, [...(byExample.get(key) ?? []), v.score]);
  }
  return outputs.map((o) => {
    const scores: Record<string, number> = { [OUTCOME_DIMENSION]: o.score };
    const runs: Record<string, number[]> = {};
    for (const rubric of rubrics) {
      const d = rubric.dimension;
      const values = byExample.get(`${o.exampleId}\u0000${d}`) ?? [];
      if (values.length === 0) continue;
      scores[d] = values.reduce((s, x) => s + x, 0) / values.length;
      if ((config.repeats[d] ?? 1) > 1) runs[d] = values;
    }
    return {
      id: o.exampleId,
      split,
      slices: o.slices,
      scores,
      ...(Object.keys(runs).length ? { runs } : {}),
    };
  });
}
