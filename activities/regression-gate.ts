import { cancellationSignal } from '@temporalio/activity';
import { decideGate, type GateConfig, type GateReport } from '../core/gate-decision.js';
import { mean } from '../core/evaluator.js';
import { createPromptVersion, moveLabel } from '../db/prompt-repository.js';
import { JUDGE_SYSTEM, judgeUserPrompt } from '../llm/prompt-templates.js';
import { JUDGE_VERDICT_SCHEMA, parseStructured } from '../llm/structured-output.js';
import { JudgeVerdict } from '../schemas/llm-outputs.js';
import type { ActivityDeps } from './activity-deps.js';
import { boundedMap } from './bounded-map.js';
import { evaluateOnSplit, type SplitEvaluation } from './candidate-evaluation.js';

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
  failingAssertion: string | null;
  candidateVersionId: string | null;
  candidate: Record<string, number>;
  baseline: Record<string, number>;
}

export function createGateActivities(deps: ActivityDeps) {
  const { db, llm } = deps;

  async function judgePassRate(evaluation: SplitEvaluation, seed: number): Promise<number> {
    const verdicts = await boundedMap(evaluation.outputs, deps.llmConcurrency, async (o) => {
      const response = await llm.judge.chat(
        {
          messages: [
            { role: 'system', content: JUDGE_SYSTEM },
            { role: 'user', content: judgeUserPrompt(o.messages, o.step) },
          ],
          jsonSchema: JUDGE_VERDICT_SCHEMA,
          temperature: 0,
          seed,
        },
        cancellationSignal(),
      );
      return parseStructured(JudgeVerdict, response.content, 'judge').verdict === 'pass' ? 1 : 0;
    });
    return mean(verdicts);
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
      const report = decideGate(candidate, baseline, cand.examples, args.config);
      let candidateVersionId: string | null = null;
      if (report.passed) {
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
        failingAssertion: report.failingAssertion,
        candidateVersionId,
        candidate,
        baseline,
      };
    },
  };
}
