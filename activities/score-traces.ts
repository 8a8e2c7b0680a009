import { heartbeat, cancellationSignal } from '@temporalio/activity';
import { judgedSteps } from '../evaluation/agent-trajectory.js';
import { runCodeEvaluators } from '../evaluation/code-evaluators.js';
import { planJudgeCalls } from '../evaluation/evaluation-cascade.js';
import { agentConfig } from '../registry/store/agent-repository.js';
import { activeRubrics } from '../evaluation/store/rubric-repository.js';
import type { Evaluation, EvaluatorError } from '../schemas/evaluation.js';
import type { ActivityDeps } from './activity-deps.js';
import { boundedMap } from './bounded-map.js';
import { traceVerdicts } from './cycle-verdicts.js';
import { judgeExamples } from './judge-examples.js';
import { judgeWithRubric } from './rubric-judge.js';
import { sampledTraces } from './sampled-traces.js';

export interface ScoringSummary {
  scored: number;
  failing: number;
  codeScored: number;
  judgeCalls: number;
  /** Rubric calls the judge would have needed without the cascade. */
  judgeCallsWithoutCascade: number;
  evaluatorErrors: number;
  tokens: number;
}

export function createScoreActivities({ db, llm, llmConcurrency }: ActivityDeps) {
  // rubricVersion: the agent's judge rubric version behind a judge score (null otherwise).
  const store = async (
    cycleId: string,
    traceId: string,
    e: Evaluation,
    rubricVersion: number | null = null,
  ) => {
    await db
      .insertInto('scores')
      .values({
        cycle_id: cycleId,
        trace_id: traceId,
        evaluator: e.evaluator,
        dimension: e.dimension,
        value: e.score,
        label: e.label,
        category: e.category,
        explanation: e.explanation,
        source: e.source,
        cost_usd: e.costUsd,
        confidence: e.confidence,
        findings: JSON.stringify(e.findings),
        rubric_version: rubricVersion,
      })
      .onConflict((oc) => oc.columns(['cycle_id', 'trace_id', 'evaluator']).doNothing())
      .execute();
  };
  const storeError = async (cycleId: string, traceId: string, e: EvaluatorError, rubricVersion: number) => {
    await db
      .insertInto('evaluator_errors')
      .values({
        cycle_id: cycleId,
        trace_id: traceId,
        evaluator: e.evaluator,
        dimension: e.dimension,
        source: e.source,
        error: e.error,
        rubric_version: rubricVersion,
      })
      .onConflict((oc) => oc.columns(['cycle_id', 'trace_id', 'evaluator']).doNothing())
      .execute();
  };

  return {
    /**
     * The evaluation cascade over the cycle's sample: code evaluators on every trace, then
     * the judge's rubrics only for the dimensions no confident code check decided (plus an
     * audit share). Idempotent: code checks are deterministic and stored with
     * do-nothing-on-conflict, and a rubric already answered (or errored) for a trace in this
     * cycle is not asked again, so a retry after a crash pays only for what is missing.
     */
    async scoreSample(args: { cycleId: string; agent: string; seed: number }): Promise<ScoringSummary> {
      const config = await agentConfig(db, args.agent);
      const ev = config.evaluation;
      const traces = await sampledTraces(db, args.cycleId);
      const answered = new Set(
        [
          ...(await db
            .selectFrom('scores')
            .select(['trace_id', 'evaluator'])
            .where('cycle_id', '=', args.cycleId)
            .where('source', '=', 'judge')
            .execute()),
          ...(await db
            .selectFrom('evaluator_errors')
            .select(['trace_id', 'evaluator'])
            .where('cycle_id', '=', args.cycleId)
            .execute()),
        ].map((r) => `${r.trace_id}|${r.evaluator}`),
      );
      const examples = await judgeExamples(db, args.agent, ev.judge.dimensions, ev.judge.fewShot);
      // The agent's active rubric versions (built-in where it saved none), read once so every
      // trace of this attempt is judged by the same version.
      const rubrics = await activeRubrics(db, args.agent, ev.judge.dimensions);
      let judgeCalls = 0;
      let withoutCascade = 0;
      let tokens = 0;
      let done = 0;
      await boundedMap(traces, llmConcurrency, async (trace) => {
        const code = runCodeEvaluators(trace, ev.code, config.tools);
        for (const e of code) await store(args.cycleId, trace.id, e);
        const plan = planJudgeCalls(code, ev.judge.dimensions, ev.cascade, `${args.seed}|${trace.id}`);
        withoutCascade += ev.judge.dimensions.length;
        const steps = judgedSteps(trace);
        for (const dimension of plan.judge) {
          if (answered.has(`${trace.id}|judge:${dimension}`)) continue;
          const rubric = rubrics.get(dimension)!;
          const outcome = await judgeWithRubric(
            llm.judge,
            rubric,
            { messages: trace.input.messages, steps },
            {
              seed: args.seed,
              repeats: ev.judge.repeats,
              examples: examples.get(dimension) ?? [],
              price: ev.judge.priceUsdPerMillionTokens,
              signal: cancellationSignal(),
            },
          );
          judgeCalls += outcome.calls;
          tokens += outcome.tokens;
          if (outcome.result === null) continue;
          if ('error' in outcome.result)
            await storeError(args.cycleId, trace.id, outcome.result, rubric.version);
          else await store(args.cycleId, trace.id, outcome.result, rubric.version);
        }
        heartbeat({ done: ++done, of: traces.length });
      });
      const verdicts = [...(await traceVerdicts(db, args.cycleId, ev.cascade.minCodeConfidence)).values()];
      const errors = await db
        .selectFrom('evaluator_errors')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('cycle_id', '=', args.cycleId)
        .executeTakeFirstOrThrow();
      return {
        scored: verdicts.length,
        failing: verdicts.filter((v) => v.failing).length,
        codeScored: verdicts.filter((v) => v.sources.includes('code')).length,
        judgeCalls,
        judgeCallsWithoutCascade: withoutCascade,
        evaluatorErrors: Number(errors.n),
        tokens,
      };
    },
  };
}
