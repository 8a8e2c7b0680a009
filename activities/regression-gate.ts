import { cancellationSignal } from '@temporalio/activity';
import { decideGate, type GateConfig, type GateReport } from '../core/gate-decision.js';
import { mean } from '../core/evaluator.js';
import { createPromptVersion, moveLabel } from '../db/prompt-repository.js';
import { rubricFor } from '../core/judge-rubrics.js';
import type { ActivityDeps } from './activity-deps.js';
import { boundedMap } from './bounded-map.js';
import { evaluateOnSplit, type SplitEvaluation } from './candidate-evaluation.js';
import { judgeWithRubric } from './rubric-judge.js';

/** The judge dimension the gate scores; it may only decide while calibrated. */
const GATE_JUDGE_DIMENSION = 'task_completion';

export interface GateInput {
  cycleId: string;
  agent: string;
  candidateId: string;
  baselineCandidateId: string;
  baselineVersionId: string;
  datasetVersionId: string;
  seed: number;
  config: GateConfig;
}

export interface GateOutcome {
  reportId: string;
  passed: boolean;
  verdict: GateReport['verdict'];
  failingAssertion: string | null;
  candidateVersionId: string | null;
  candidate: Record<string, number>;
  baseline: Record<string, number>;
}

export function createGateActivities(deps: ActivityDeps) {
  const { db, llm } = deps;

  async function judgePassRate(evaluation: SplitEvaluation, seed: number): Promise<number> {
    const rubric = rubricFor(GATE_JUDGE_DIMENSION);
    const verdicts = await boundedMap(evaluation.outputs, deps.llmConcurrency, async (o) => {
      const { result } = await judgeWithRubric(
        llm.judge,
        rubric,
        { messages: o.messages, steps: [o.step] },
        { seed, repeats: 1, examples: [], price: { input: 0, output: 0 }, signal: cancellationSignal() },
      );
      // An evaluator error is left out of the mean rather than counted as a fail or a pass.
      return result && 'score' in result ? [result.score] : [];
    });
    return mean(verdicts.flat());
  }

  return {
    /**
     * Candidate vs production on the eval split (never seen by the optimizer): the code
     * dimension and the judge dimension, thresholds and no-regression. A passing candidate
     * becomes a new immutable prompt version labelled `candidate`.
     */
    async runGate(args: GateInput): Promise<GateOutcome> {
      const reportId = `${args.cycleId}:gate`;
      const existing = await db
        .selectFrom('gate_reports')
        .selectAll()
        .where('id', '=', reportId)
        .executeTakeFirst();
      if (existing) {
        const report = existing.report as GateReport;
        return {
          reportId,
          passed: existing.passed,
          verdict: report.verdict,
          failingAssertion: existing.failing_assertion,
          candidateVersionId: existing.candidate_version_id,
          candidate: report.candidate,
          baseline: report.baseline,
        };
      }
      const common = {
        agent: args.agent,
        datasetVersionId: args.datasetVersionId,
        split: 'eval' as const,
        seed: args.seed,
      };
      const cand = await evaluateOnSplit(deps, { ...common, candidateId: args.candidateId });
      const base = await evaluateOnSplit(deps, { ...common, candidateId: args.baselineCandidateId });
      const candidate = { outcome_match: cand.score, task_completion: await judgePassRate(cand, args.seed) };
      const baseline = { outcome_match: base.score, task_completion: await judgePassRate(base, args.seed) };
      const calibration = await db
        .selectFrom('judge_calibrations')
        .select(['can_gate', 'reason'])
        .where('cycle_id', '=', args.cycleId)
        .where('dimension', '=', GATE_JUDGE_DIMENSION)
        .executeTakeFirst();
      const uncalibrated: Record<string, string> = !calibration
        ? { [GATE_JUDGE_DIMENSION]: 'no agreement with reviewers measured this cycle' }
        : calibration.can_gate
          ? {}
          : { [GATE_JUDGE_DIMENSION]: calibration.reason };
      const report = decideGate(candidate, baseline, cand.examples, args.config, uncalibrated);
      let candidateVersionId: string | null = null;
      // Inconclusive still becomes a candidate version: a human decides at approval.
      if (report.verdict !== 'fail') {
        const text = (
          await db
            .selectFrom('candidates')
            .select('prompt_text')
            .where('id', '=', args.candidateId)
            .executeTakeFirstOrThrow()
        ).prompt_text;
        const version = await createPromptVersion(db, args.agent, text, 'optimizer', args.candidateId);
        candidateVersionId = version.id;
        await moveLabel(db, args.agent, 'candidate', version.id, 'flywheel', `passed gate ${reportId}`);
      }
      await db
        .insertInto('gate_reports')
        .values({
          id: reportId,
          cycle_id: args.cycleId,
          candidate_id: args.candidateId,
          baseline_version_id: args.baselineVersionId,
          candidate_version_id: candidateVersionId,
          passed: report.passed,
          failing_assertion: report.failingAssertion,
          report: JSON.stringify(report),
        })
        .onConflict((oc) => oc.column('id').doNothing())
        .execute();
      return {
        reportId,
        passed: report.passed,
        verdict: report.verdict,
        failingAssertion: report.failingAssertion,
        candidateVersionId,
        candidate,
        baseline,
      };
    },
  };
}
