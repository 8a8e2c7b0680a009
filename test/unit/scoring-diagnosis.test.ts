import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { judgeWithRubric } from '../../llm/rubric-judge.js';
import { planJudgeCalls, decisiveVerdicts } from '../../evaluation/evaluation-cascade.js';
import { DEFAULT_TAXONOMY_FILE, parseTaxonomy, TaxonomyError } from '../../diagnosis/failure-taxonomy.js';
import { renderDiagnosisReport, type DiagnosisReportData } from '../../diagnosis/diagnosis-report.js';
import { decideGate } from '../../release/gate-decision.js';
import { agreement, calibrate } from '../../evaluation/judge-calibration.js';
import type { ChatRequest, ChatResponse, LlmClient } from '../../llm/llm-client.js';
import { rubricFor, JUDGE_RUBRICS } from '../../evaluation/judge-rubrics.js';
import { JUDGE_DIMENSIONS } from '../../schemas/judge-dimensions.js';
import { codeEvaluation, Evaluation } from '../../schemas/evaluation.js';
import { EvaluationConfig } from '../../schemas/evaluation-config.js';
import { GateConfig } from '../../schemas/gate-config.js';

/** A judge that answers from a script, recording what it was asked. */
class ScriptedJudge implements LlmClient {
  readonly model = 'scripted';
  requests: ChatRequest[] = [];
  constructor(private readonly answers: (string | ((r: ChatRequest) => string))[]) {}
  chat(request: ChatRequest): Promise<ChatResponse> {
    this.requests.push(request);
    const next = this.answers[Math.min(this.requests.length - 1, this.answers.length - 1)]!;
    const content = typeof next === 'function' ? next(request) : next;
    return Promise.resolve({
      content,
      toolCalls: [],
      usage: { promptTokens: 100, completionTokens: 20 },
      cached: false,
    });
  }
  embed(): Promise<number[][]> {
    return Promise.reject(new Error('not an embedder'));
  }
}

const trace = {
  messages: [{ role: 'user' as const, content: 'Cancel reservation ZFA04Y please', tool_calls: undefined }],
  steps: [{ action: 'cancel_reservation', arguments: { reservation_id: 'ZFA04Y' } }],
};
const options = { seed: 7, repeats: 1, examples: [], price: { input: 1, output: 2 } };
const fail = JSON.stringify({
  verdict: 'fail',
  failure_category: 'missing_confirmation',
  failing_step: 0,
  rationale: 'No confirmation.',
});
const pass = JSON.stringify({
  verdict: 'pass',
  failure_category: null,
  failing_step: null,
  rationale: 'Fine.',
});

describe('judge rubrics', () => {
  it('cover exactly the dimensions that configuration schemas accept, in the same order', () => {
    assert.deepEqual(
      JUDGE_RUBRICS.map((r) => r.dimension),
      [...JUDGE_DIMENSIONS],
    );
  });

  it('ship the six trajectory dimensions and the four 1–5 trace dimensions', () => {
    assert.deepEqual(
      JUDGE_RUBRICS.filter((r) => r.scale === 'binary').map((r) => r.dimension),
      [
        'tool_selection',
        'argument_extraction',
        'result_utilization',
        'error_recovery',
        'plan_coherence',
        'task_completion',
      ],
    );
    assert.deepEqual(
      JUDGE_RUBRICS.filter((r) => r.scale === 'likert5').map((r) => r.dimension),
      ['factual_grounding', 'privacy_safety', 'instruction_adherence', 'optimal_plan_execution'],
    );
  });

  it('asks at temperature 0 with the rubric schema and turns a verdict into the evaluator contract', async () => {
    const judge = new ScriptedJudge([fail]);
    const out = await judgeWithRubric(judge, rubricFor('plan_coherence'), trace, options);
    assert.equal(out.calls, 1);
    assert.equal(judge.requests[0]!.temperature, 0);
    assert.equal(judge.requests[0]!.jsonSchema!.name, 'judge_plan_coherence_v1');
    const e = Evaluation.parse(out.result);
    assert.equal(e.label, 'fail');
    assert.equal(e.score, 0);
    assert.equal(e.category, 'missing_confirmation');
    assert.equal(e.findings[0]!.step, 0);
    assert.ok(Math.abs(e.costUsd - (100 * 1 + 20 * 2) / 1e6) < 1e-12, 'cost from tokens and price');
  });

  it('retries a reply that breaks the schema once, sending the validation error back', async () => {
    const judge = new ScriptedJudge([JSON.stringify({ verdict: 'maybe', rationale: 'hm' }), pass]);
    const out = await judgeWithRubric(judge, rubricFor('task_completion'), trace, options);
    assert.equal(out.calls, 2);
    const repair = judge.requests[1]!.messages.at(-1)!.content;
    assert.match(repair, /did not match the required JSON schema: .*verdict/);
    assert.equal((out.result as Evaluation).label, 'pass');
  });

  it('records an evaluator error, not a zero, when the retry fails too', async () => {
    const judge = new ScriptedJudge(['not json', JSON.stringify({ verdict: 'pass' })]);
    const out = await judgeWithRubric(judge, rubricFor('task_completion'), trace, options);
    assert.equal(out.calls, 2);
    assert.ok(out.result && 'error' in out.result, 'an error result');
    assert.ok(!('score' in out.result));
    assert.match(
      out.result.error,
      /did not match the task_completion schema twice: not JSON.*after the retry: .*failure_category/,
    );
  });

  it('with repeated sampling, the majority decides and agreement becomes the confidence', async () => {
    const judge = new ScriptedJudge([fail, pass, fail]);
    const out = await judgeWithRubric(judge, rubricFor('tool_selection'), trace, { ...options, repeats: 3 });
    assert.equal(out.calls, 3);
    assert.deepEqual(
      judge.requests.map((r) => r.seed),
      [7, 8, 9],
      'each sample has its own seed',
    );
    const e = out.result as Evaluation;
    assert.equal(e.label, 'fail');
    assert.ok(Math.abs(e.confidence - 2 / 3) < 1e-12);
  });

  it('says nothing when the rubric does not apply, and scores 1–5 rubrics on [0, 1]', async () => {
    const na = await judgeWithRubric(
      new ScriptedJudge([
        JSON.stringify({
          verdict: 'not_applicable',
          failure_category: null,
          failing_step: null,
          rationale: 'No error.',
        }),
      ]),
      rubricFor('error_recovery'),
      trace,
      options,
    );
    assert.equal(na.result, null);
    const likert = await judgeWithRubric(
      new ScriptedJudge([JSON.stringify({ score: 2, rationale: 'Broke a rule.' })]),
      rubricFor('instruction_adherence'),
      trace,
      options,
    );
    const e = likert.result as Evaluation;
    assert.equal(e.score, 0.25);
    assert.equal(e.label, 'fail', 'below the pass level of 4');
  });

  it('puts reviewer corrections before the trace, so they cannot be mistaken for it', async () => {
    const judge = new ScriptedJudge([pass]);
    await judgeWithRubric(judge, rubricFor('task_completion'), trace, {
      ...options,
      examples: [
        {
          transcript: 'user: move my basic economy flight',
          steps: '[0] action: respond',
          verdict: 'pass',
          note: 'policy forbids changes',
        },
      ],
    });
    const user = judge.requests[0]!.messages[1]!.content;
    assert.ok(user.indexOf('Examples corrected by human reviewers') < user.indexOf('## Trace to judge'));
    assert.match(user, /policy forbids changes/);
  });
});

describe('the evaluation cascade', () => {
  const code = (dimension: string, label: 'pass' | 'fail', confidence = 1) =>
    codeEvaluation({
      evaluator: `code:${dimension}`,
      dimension,
      score: label === 'pass' ? 1 : 0,
      label,
      explanation: '',
      confidence,
    });
  const cascade = { enabled: true, minCodeConfidence: 0.9, auditShare: 0 };

  it('sends only the dimensions no confident code check decided to the judge', () => {
    const plan = planJudgeCalls(
      [code('task_completion', 'fail'), code('plan_coherence', 'pass', 0.5)],
      ['task_completion', 'plan_coherence', 'tool_selection'],
      cascade,
      't1',
    );
    assert.deepEqual(plan.judge, ['plan_coherence', 'tool_selection']);
    assert.deepEqual(plan.decidedByCode, ['task_completion']);
  });

  it('sends everything when disabled, and a deterministic audit share regardless', () => {
    const dims = ['task_completion', 'tool_selection'];
    assert.deepEqual(
      planJudgeCalls([code('task_completion', 'pass')], dims, { ...cascade, enabled: false }, 'x').judge,
      dims,
    );
    const audited = Array.from({ length: 1000 }, (_, i) =>
      planJudgeCalls([code('task_completion', 'pass')], dims, { ...cascade, auditShare: 0.1 }, `t${i}`),
    );
    const share = audited.filter((p) => p.audited).length / 1000;
    assert.ok(share > 0.07 && share < 0.13, `audit share ${share}`);
    assert.deepEqual(
      audited.map((p) => p.audited),
      Array.from(
        { length: 1000 },
        (_, i) =>
          planJudgeCalls([code('task_completion', 'pass')], dims, { ...cascade, auditShare: 0.1 }, `t${i}`)
            .audited,
      ),
    );
  });

  it('decides each dimension by human, then confident code, then judge', () => {
    const judge = Evaluation.parse({
      evaluator: 'judge:task_completion',
      dimension: 'task_completion',
      score: 1,
      label: 'pass',
      explanation: '',
      source: 'judge',
    });
    const v1 = decisiveVerdicts([judge, code('task_completion', 'fail')], 0.9);
    assert.equal(v1.get('task_completion')!.label, 'fail');
    assert.equal(v1.get('task_completion')!.source, 'code');
    const v2 = decisiveVerdicts([judge, code('task_completion', 'fail', 0.3)], 0.9);
    assert.equal(v2.get('task_completion')!.source, 'judge', 'an unsure code check yields to the judge');
    const human = { ...judge, evaluator: 'human', source: 'human' as const, label: 'pass', score: 1 };
    assert.equal(
      decisiveVerdicts([judge, code('task_completion', 'fail'), human], 0.9).get('task_completion')!.source,
      'human',
    );
  });
});

describe('judge calibration', () => {
  const pairs = (spec: [string, string, number][]) =>
    spec.flatMap(([judge, human, n]) =>
      Array.from({ length: n }, () => ({ judge: judge as 'pass' | 'fail', human: human as 'pass' | 'fail' })),
    );

  it("computes accuracy, Cohen's κ and F1 of the fail class", () => {
    // 20 fail/fail, 5 fail/pass, 10 pass/fail, 15 pass/pass: po = 0.7, pe = 0.5·0.6 + 0.5·0.4 = 0.5 → κ = 0.4.
    const a = agreement(
      pairs([
        ['fail', 'fail', 20],
        ['fail', 'pass', 5],
        ['pass', 'fail', 10],
        ['pass', 'pass', 15],
      ]),
    );
    assert.equal(a.labels, 50);
    assert.ok(Math.abs(a.accuracy! - 0.7) < 1e-12);
    assert.ok(Math.abs(a.kappa! - 0.4) < 1e-12);
    assert.ok(Math.abs(a.f1! - 40 / 55) < 1e-12);
  });

  it('lets a dimension gate only above the floor and with enough labels', () => {
    const good = pairs([
      ['fail', 'fail', 10],
      ['pass', 'pass', 10],
    ]);
    assert.equal(calibrate('task_completion', good, { minLabels: 8, minKappa: 0.4 }).canGate, true);
    const few = calibrate('task_completion', good.slice(0, 5), { minLabels: 8, minKappa: 0.4 });
    assert.equal(few.canGate, false);
    assert.match(few.reason, /5 human labels \(need ≥ 8\)/);
    const coinFlip = pairs([
      ['fail', 'fail', 5],
      ['fail', 'pass', 5],
      ['pass', 'fail', 5],
      ['pass', 'pass', 5],
    ]);
    const poor = calibrate('task_completion', coinFlip, { minLabels: 8, minKappa: 0.4 });
    assert.equal(poor.canGate, false);
    assert.match(poor.reason, /κ 0\.00 below the floor 0\.40/);
  });

  it('makes the gate inconclusive on an uncalibrated judge dimension, whatever its score', () => {
    const config = GateConfig.parse({
      uncalibratedJudges: 'inconclusive',
      assertions: [
        { dimension: 'outcome_match', threshold: 0.5 },
        { dimension: 'task_completion', threshold: 0.5 },
      ],
      minEvalExamples: 1,
    });
    const table = (scores: Record<string, number>) =>
      Array.from({ length: 10 }, (_, i) => ({ id: `e${i}`, split: 'eval' as const, slices: [], scores }));
    const better = table({ outcome_match: 0.9, task_completion: 0.95 });
    const base = table({ outcome_match: 0.6, task_completion: 0.6 });
    const gate = (candidate: typeof base, uncalibrated = {}) =>
      decideGate({ candidate, baseline: base, config, uncalibrated, seed: 1 });
    assert.equal(gate(better).verdict, 'pass');
    const r = gate(better, { task_completion: 'κ 0.10 below the floor 0.40' });
    assert.equal(r.verdict, 'inconclusive');
    assert.equal(r.passed, false);
    assert.equal(r.failingAssertion, 'calibration:task_completion');
    assert.ok(r.assertions.filter((a) => a.inconclusive).some((a) => a.name === 'threshold:task_completion'));
    const worse = gate(table({ outcome_match: 0.2, task_completion: 0.95 }), { task_completion: 'x' });
    assert.equal(worse.verdict, 'fail', 'a conclusive failure still fails');
    assert.equal(worse.failingAssertion, 'threshold:outcome_match');
  });
});

describe('the failure taxonomy', () => {
  it('ships a valid versioned file with all seven categories', () => {
    const t = parseTaxonomy(readFileSync(DEFAULT_TAXONOMY_FILE, 'utf8'), 'taxonomy/failure-taxonomy.jsonl');
    assert.match(t.version, /^\d+\.\d+\.\d+$/);
    assert.deepEqual([...new Set(t.subtypes.map((s) => s.category))].sort(), [
      'context',
      'infra',
      'memory',
      'planning',
      'policy_escalation',
      'retrieval',
      'tool_selection',
    ]);
  });

  it('rejects an unknown category naming the offending line', () => {
    const text = [
      '# comment',
      '{"taxonomy": "t", "version": "1.0.0"}',
      '{"category": "planning", "subtype": "wrong_order", "description": "d", "rung": "prompt"}',
      '',
      '{"category": "plannign", "subtype": "typo", "description": "d", "rung": "prompt"}',
    ].join('\n');
    assert.throws(
      () => parseTaxonomy(text, 'my.jsonl'),
      (e: unknown) =>
        e instanceof TaxonomyError &&
        /my\.jsonl line 5: unknown category "plannign"; use one of infra, context/.test(e.message),
    );
  });

  it('rejects bad JSON, a missing header, duplicates and unknown rungs with their lines', () => {
    const header = '{"taxonomy": "t", "version": "1.0.0"}';
    const entry = '{"category": "memory", "subtype": "forgot", "description": "d", "rung": "prompt"}';
    assert.throws(() => parseTaxonomy(`${header}\n{oops`, 'f'), /f line 2: not valid JSON/);
    assert.throws(() => parseTaxonomy(entry, 'f'), /f line 1: the first entry must be the header/);
    assert.throws(
      () => parseTaxonomy(`${header}\n${entry}\n${entry}`, 'f'),
      /f line 3: subtype "forgot" is already defined on line 2/,
    );
    assert.throws(
      () => parseTaxonomy(`${header}\n${entry.replace('"prompt"', '"magic"')}`, 'f'),
      /f line 2: rung/,
    );
  });
});

describe('the diagnosis report', () => {
  const base: DiagnosisReportData = {
    cycleId: 'c1',
    agent: 'demo',
    taxonomy: 'flywheel-agent-failures 1.0.0',
    embedder: 'local:hashed-tfidf',
    sampled: 10,
    scored: 10,
    failing: 0,
    judgeCalls: 12,
    judgeCallsWithoutCascade: 20,
    evaluatorErrors: [],
    clusters: [],
    calibration: [],
  };

  it('says so when there is nothing to diagnose', () => {
    const md = renderDiagnosisReport(base);
    assert.match(md, /No failing traces in this sample: there is nothing to cluster or diagnose/);
    assert.match(md, /1\.20 per trace; 2\.00 without the cascade/);
  });

  it('lists clusters with their diagnosis, routes prompt fixes to the optimizer and the rest to recommendations', () => {
    const cluster = {
      stableId: 'demo-fc001',
      name: 'confirm · book_reservation',
      size: 12,
      noise: 2,
      previousId: null,
      category: 'planning',
      subtype: 'missing_confirmation',
      intervention: 'prompt',
      rootCause: 'Books without confirming.',
      immediateFix: 'Add: confirm before booking.',
      failingStep: 'step [0] the booking call',
      evidence: ['t1', 't2'],
      diagnosisError: null,
    };
    const md = renderDiagnosisReport({
      ...base,
      failing: 20,
      clusters: [
        cluster,
        {
          ...cluster,
          stableId: 'demo-fc002',
          previousId: 'demo-fc002',
          category: 'retrieval',
          subtype: 'missing_documents',
          intervention: 'context',
          immediateFix: 'Index the fare rules.',
        },
      ],
      evaluatorErrors: [{ evaluator: 'judge:task_completion', count: 2, example: 'schema twice' }],
      calibration: [
        {
          dimension: 'task_completion',
          labels: 12,
          accuracy: 0.9,
          kappa: 0.8,
          f1: 0.85,
          canGate: true,
          reason: 'ok',
        },
      ],
    });
    assert.match(
      md,
      /\| `demo-fc001` \| confirm · book_reservation \| 12 \(\+2 noise\) \| planning \/ missing_confirmation \| prompt \| new \|/,
    );
    assert.match(md, /\| `demo-fc002` .* \| context \| seen before \|/);
    assert.match(md, /To the prompt optimizer: `demo-fc001`\./);
    assert.match(md, /Recommendation for `demo-fc002` \(context\): Index the fare rules\./);
    assert.match(md, /\| judge:task_completion \| 2 \|/);
    assert.match(md, /\| task_completion \| 12 \| 0\.90 \| 0\.80 \| 0\.85 \| yes \|/);
  });
});

describe('evaluation configuration', () => {
  it('rejects an unknown judge dimension with the list of known ones', () => {
    const r = EvaluationConfig.safeParse({ judge: { dimensions: ['task_completion', 'vibes'] } });
    assert.equal(r.success, false);
    assert.match(r.error.issues[0]!.message, /unknown judge dimension "vibes"; use one of tool_selection/);
  });
});
