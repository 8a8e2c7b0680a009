import { heartbeat, cancellationSignal } from '@temporalio/activity';
import { judgedSteps } from '../evaluation/agent-trajectory.js';
import { runCodeEvaluators } from '../evaluation/code-evaluators.js';
import { planJudgeCalls } from '../evaluation/evaluation-cascade.js';
import { agentConfig } from '../registry/store/agent-repository.js';
import { activeRubrics } from '../evaluation/store/rubric-repository.js';
import {
  countEvaluatorErrors,
  insertEvaluatorError,
  insertScore,
  judgeAnswers,
} from '../evaluation/store/score-repository.js';
import { sampledTraces } from '../traces/store/sample-repository.js';
import type { ActivityDeps } from './activity-deps.js';
import { boundedMap } from '../llm/bounded-map.js';
import { traceVerdicts } from './cycle-verdicts.js';
import { judgeExamples } from './judge-examples.js';
import { judgeWithRubric } from '../llm/rubric-judge.js';

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
  return {
    /**
     * The evaluation cascade over the cycle's sample: code evaluators on every trace, then
     * the judge's rubrics only for the dimensions no confident code check decided (plus an
     * audit share). Idempotent: code checks are deterministic and stored with
     * do-nothing-on-conflict, and a retry after a crash pays only for what is missing. A
     * rubric an earlier attempt answered with a score is asked again: the model response
     * cache answers it at no cost, so the judge calls and tokens this attempt reports are
     * those of an uninterrupted one (skipping it under-counted them). One that ended in an
     * evaluator error is skipped: its answer was never cached, so asking again would pay again.
     */
    async scoreSample(args: { cycleId: string; agent: string; seed: number }): Promise<ScoringSummary> {
      const config = await agentConfig(db, args.agent);
      const ev = config.evaluation;
      const traces = await sampledTraces(db, args.cycleId);
      const errored = new Set(
        (await judgeAnswers(db, args.cycleId))
          .filter((r) => r.errored)
          .map((r) => `${r.trace_id}|${r.evaluator}`),
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
        for (const e of code) await insertScore(db, args.cycleId, trace.id, e);
        const plan = planJudgeCalls(code, ev.judge.dimensions, ev.cascade, `${args.seed}|${trace.id}`);
        withoutCascade += ev.judge.dimensions.length;
        const steps = judgedSteps(trace);
        for (const dimension of plan.judge) {
          if (errored.has(`${trace.id}|judge:${dimension}`)) continue;
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
            await insertEvaluatorError(db, args.cycleId, trace.id, outcome.result, rubric.version);
          else await insertScore(db, args.cycleId, trace.id, outcome.result, rubric.version);
        }
        heartbeat({ done: ++done, of: traces.length });
      });
      const verdicts = [...(await traceVerdicts(db, args.cycleId, ev.cascade.minCodeConfidence)).values()];
      const evaluatorErrors = await countEvaluatorErrors(db, args.cycleId);
      return {
        scored: verdicts.length,
        failing: verdicts.filter((v) => v.failing).length,
        codeScored: verdicts.filter((v) => v.sources.includes('code')).length,
        judgeCalls,
        judgeCallsWithoutCascade: withoutCascade,
        evaluatorErrors,
        tokens,
      };
    },
  };
}
