import type { z } from 'zod';
import type { Evaluation, EvaluatorError } from '../schemas/evaluation.js';
import { BinaryJudgement, LikertJudgement } from '../schemas/llm-outputs.js';
import type { AgentAction, ChatMessage } from '../schemas/trace.js';
import type { ChatMessageIn, LlmClient } from './llm-client.js';
import type { JudgeRubric } from '../evaluation/judge-rubrics.js';
import {
  judgeRepairPrompt,
  rubricSystemPrompt,
  rubricUserPrompt,
  type JudgeExample,
} from './prompt-templates.js';
import { checkStructured, rubricJsonSchema, type Checked } from './structured-output.js';

export interface JudgedTrace {
  messages: readonly ChatMessage[];
  steps: readonly AgentAction[];
}

export interface JudgeOptions {
  seed: number;
  /** Independent samples (different seeds); the majority decides, agreement is the confidence. */
  repeats: number;
  examples: readonly JudgeExample[];
  /** USD per million prompt / completion tokens of the judge model. */
  price: { input: number; output: number };
  signal?: AbortSignal | undefined;
}

export interface JudgeOutcome {
  /** null: the rubric does not apply to this trace (no score is stored). */
  result: Evaluation | EvaluatorError | null;
  calls: number;
  tokens: number;
}

type Sample = Checked<BinaryJudgement | LikertJudgement>;

/**
 * One rubric on one trace: temperature 0, structured output, reviewer-corrected examples
 * as few-shot. A reply that fails its schema is sent back once with the validation error;
 * failing again, it becomes an evaluator error for this trace — never a silent zero.
 */
export async function judgeWithRubric(
  llm: LlmClient,
  rubric: JudgeRubric,
  trace: JudgedTrace,
  options: JudgeOptions,
): Promise<JudgeOutcome> {
  const schema: z.ZodType<BinaryJudgement | LikertJudgement> =
    rubric.scale === 'likert5' ? LikertJudgement : BinaryJudgement;
  const jsonSchema = rubricJsonSchema(rubric);
  const base: ChatMessageIn[] = [
    { role: 'system', content: rubricSystemPrompt(rubric) },
    { role: 'user', content: rubricUserPrompt(trace.messages, trace.steps, options.examples) },
  ];
  let calls = 0;
  let promptTokens = 0;
  let completionTokens = 0;
  const ask = async (messages: ChatMessageIn[], seed: number) => {
    // An answer off its schema is cached too: the repair below is a request of its own, so a
    // retried activity (or the gate's baseline, judged on the same step) pays for neither again.
    const response = await llm.chat(
      { messages, jsonSchema, temperature: 0, seed, offSchema: 'cache' },
      options.signal,
    );
    calls++;
    promptTokens += response.usage.promptTokens;
    completionTokens += response.usage.completionTokens;
    return response.content;
  };
  const samples: Sample[] = [];
  for (let r = 0; r < Math.max(1, options.repeats); r++) {
    const seed = options.seed + r;
    const first = await ask(base, seed);
    let sample: Sample = checkStructured(schema, first);
    if (!sample.ok) {
      const retry = await ask(
        [
          ...base,
          { role: 'assistant', content: first ?? '' },
          { role: 'user', content: judgeRepairPrompt(sample.error) },
        ],
        seed,
      );
      const second = checkStructured(schema, retry);
      sample = second.ok ? second : { ok: false, error: `${sample.error}; after the retry: ${second.error}` };
    }
    samples.push(sample);
  }
  const costUsd = (promptTokens * options.price.input + completionTokens * options.price.output) / 1e6;
  const tokens = promptTokens + completionTokens;
  const evaluator = `judge:${rubric.dimension}`;
  const valid = samples.flatMap((s) => (s.ok ? [s.value] : []));
  if (valid.length === 0) {
    const error = samples.map((s) => (s.ok ? '' : s.error)).join(' | ');
    return {
      calls,
      tokens,
      result: {
        evaluator,
        dimension: rubric.dimension,
        source: 'judge',
        costUsd,
        error: `the judge's reply did not match the ${rubric.dimension} schema twice: ${error}`,
      },
    };
  }
  const result =
    rubric.scale === 'likert5'
      ? likertResult(rubric, valid as LikertJudgement[], samples.length)
      : binaryResult(rubric, valid as BinaryJudgement[], samples.length);
  return { calls, tokens, result: result && { ...result, costUsd } };
}

/** Majority of the verdicts; confidence is the majority's share of all samples asked. */
function binaryResult(rubric: JudgeRubric, answers: BinaryJudgement[], asked: number): Evaluation | null {
  const counts = new Map<string, number>();
  for (const a of answers) counts.set(a.verdict, (counts.get(a.verdict) ?? 0) + 1);
  // Ties go to fail: an uncertain judge should surface the trace rather than hide it.
  const order = ['fail', 'pass', 'not_applicable'];
  const [verdict, n] = [...counts.entries()].sort(
    (a, b) => b[1] - a[1] || order.indexOf(a[0]) - order.indexOf(b[0]),
  )[0]!;
  if (verdict === 'not_applicable') return null;
  const chosen = answers.find((a) => a.verdict === verdict)!;
  return {
    evaluator: `judge:${rubric.dimension}`,
    dimension: rubric.dimension,
    score: verdict === 'pass' ? 1 : 0,
    label: verdict,
    explanation: chosen.rationale + (asked > 1 ? ` (${n}/${asked} samples agree)` : ''),
    source: 'judge',
    costUsd: 0,
    confidence: n / asked,
    category: verdict === 'fail' ? (chosen.failure_category ?? 'other') : null,
    findings:
      verdict === 'fail' && chosen.failing_step !== null
        ? [{ kind: rubric.dimension, step: chosen.failing_step, detail: chosen.rationale }]
        : [],
  };
}

/** The median level; confidence is the share of samples within one level of it. */
function likertResult(rubric: JudgeRubric, answers: LikertJudgement[], asked: number): Evaluation {
  const sorted = [...answers].sort((a, b) => a.score - b.score);
  const median = sorted[Math.floor((sorted.length - 1) / 2)]!;
  const close = answers.filter((a) => Math.abs(a.score - median.score) <= 1).length;
  const pass = median.score >= (rubric.passLevel ?? 4);
  return {
    evaluator: `judge:${rubric.dimension}`,
    dimension: rubric.dimension,
    score: (median.score - 1) / 4,
    label: pass ? 'pass' : 'fail',
    explanation:
      `${median.score}/5: ${median.rationale}` +
      (asked > 1 ? ` (${close}/${asked} samples within one level)` : ''),
    source: 'judge',
    costUsd: 0,
    confidence: close / asked,
    category: pass ? null : rubric.dimension,
    findings: [],
  };
}
