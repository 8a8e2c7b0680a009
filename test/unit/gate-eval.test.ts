import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decideGate, type ExampleScores } from '../../release/gate-decision.js';
import { ciVerdict, parseFailOn, verdictHeadline } from '../../release/gate-ci-verdict.js';
import { renderGateEvalJunit } from '../../release/gate-eval-junit.js';
import { renderGateEvalMarkdown } from '../../release/gate-eval-markdown.js';
import { renderGateEvalTable } from '../../release/gate-eval-table.js';
import { parseCandidatePromptFile } from '../../registry/candidate-prompt-file.js';
import { GateConfig } from '../../schemas/gate-config.js';
import type { GateEvalResult } from '../../schemas/gate-eval.js';
import type { GateReport } from '../../schemas/gate-report.js';
import { junitSchemaErrors } from '../helpers/junit-schema.js';

/** 40 eval examples, half tagged routine; `score(i)` per example on both dimensions. */
const table = (score: (i: number) => number): ExampleScores[] =>
  Array.from({ length: 40 }, (_, i) => ({
    id: `e${i}`,
    split: 'eval' as const,
    slices: i % 2 === 0 ? ['routine'] : ['policy'],
    scores: { outcome_match: score(i), task_completion: score(i) },
  }));

const production = table((i) => (i % 2 === 0 ? 1 : i % 4 === 1 ? 1 : 0));
/** Fixes every policy example, breaks every routine one: an over-broad phrase. */
const overBroad = table((i) => (i % 2 === 0 ? 0 : 1));
/** Fixes the policy examples production failed, breaks nothing. */
const fixing = table((i) => (i % 2 === 0 ? 1 : 1));

function resultOf(report: GateReport, failOn: string[] | null): GateEvalResult {
  return {
    agent: 'demo',
    evaluatedBy: 'user:ci',
    candidate: { source: 'file', ref: 'prompts/demo.txt' },
    production: { id: 'demo@v1', version: 1 },
    coaching: { active: 0, candidates: null },
    dataset: { id: 'demo-dataset@v1', eval: 40, holdout: 0 },
    gateConfig: "the agent's",
    failOn,
    ...ciVerdict(report, failOn),
    startedAt: '2026-12-07T01:02:03.456Z',
    seconds: 1.5,
    report,
  };
}

const config = GateConfig.parse({});
const decide = (candidate: ExampleScores[], uncalibrated: Record<string, string> = {}, c = config) =>
  decideGate({ candidate, baseline: production, config: c, uncalibrated, seed: 1 });

describe('flywheel eval turns a gate report into a CI verdict', () => {
  it('passes a candidate that fixes failures and breaks nothing (exit 0)', () => {
    const v = ciVerdict(decide(fixing), null);
    assert.equal(v.exitCode, 0);
    assert.deepEqual(v.axes, []);
    assert.equal(verdictHeadline(v), 'PASS');
  });

  it('fails an over-broad candidate on the routine slice, naming dimension and slice (exit 1)', () => {
    const v = ciVerdict(decide(overBroad), null);
    assert.equal(v.exitCode, 1);
    const routine = v.axes.filter((x) => x.slice === 'routine').map((x) => x.dimension);
    assert.deepEqual(routine.sort(), ['composite', 'outcome_match', 'task_completion']);
    assert.ok(v.axes.every((x) => x.outcome === 'fail'));
    assert.match(
      verdictHeadline(v),
      /^FAIL on outcome_match \[routine, all\]; task_completion \[routine\]; composite \[routine\] \(first: no_regression:outcome_match\[routine\]\)$/,
    );
  });

  it('is inconclusive when a gated judge is not calibrated and the gate says so (exit 2)', () => {
    const strict = GateConfig.parse({ uncalibratedJudges: 'inconclusive' });
    const v = ciVerdict(decide(fixing, { task_completion: 'no agreement measured' }, strict), null);
    assert.equal(v.exitCode, 2);
    assert.equal(v.axes[0]!.assertion, 'calibration:task_completion');
    assert.match(
      verdictHeadline(v),
      /^INCONCLUSIVE on task_completion \[all, policy, routine\]; composite .* \(first: calibration:task_completion\)$/,
    );
  });

  it('--fail-on keeps other dimensions in the report but out of the exit code', () => {
    // The candidate regresses task_completion on routine only; outcome_match is unchanged.
    const judgeOnly = table((i) => (i % 2 === 0 ? 1 : i % 4 === 1 ? 1 : 0)).map((e, i) =>
      i % 2 === 0 ? { ...e, scores: { ...e.scores, task_completion: 0 } } : e,
    );
    const noGainNeeded = GateConfig.parse({ requireImprovement: null });
    const report = decide(judgeOnly, {}, noGainNeeded);
    assert.equal(ciVerdict(report, null).exitCode, 1);
    const narrowed = ciVerdict(report, ['outcome_match']);
    assert.equal(narrowed.exitCode, 0);
    assert.ok(narrowed.waived.some((x) => x.dimension === 'task_completion' && x.slice === 'routine'));
  });

  it('--fail-on a dimension the gate only reports (an uncalibrated judge) cannot pass: inconclusive', () => {
    const report = decide(overBroad, { task_completion: 'no agreement measured' });
    assert.ok(report.assertions.some((a) => a.dimension === 'task_completion' && a.gating === false));
    const v = ciVerdict(report, ['task_completion']);
    assert.equal(v.exitCode, 2);
    assert.ok(v.axes.every((x) => x.dimension === 'task_completion' && x.outcome === 'inconclusive'));
    assert.ok(v.axes.some((x) => x.slice === 'routine'));
    assert.ok(v.waived.some((x) => x.dimension === 'outcome_match' && x.slice === 'routine'));
  });

  it('refuses an unknown --fail-on dimension, listing the known ones', () => {
    assert.deepEqual(parseFailOn('outcome_match, task_completion'), ['outcome_match', 'task_completion']);
    assert.throws(
      () => parseFailOn('outcome,task_completion'),
      /unknown dimension\(s\) outcome: pass a comma-separated list of outcome_match/,
    );
    assert.throws(() => parseFailOn(' , '), /names no dimension/);
  });
});

describe('flywheel eval reports', () => {
  const failed = resultOf(decide(overBroad), null);

  it('writes JUnit that validates against the JUnit schema, one case per assertion', async () => {
    const xml = renderGateEvalJunit(failed, 'ci-runner');
    assert.deepEqual(await junitSchemaErrors(xml), []);
    assert.equal((xml.match(/<testcase /g) ?? []).length, failed.report.assertions.length);
    assert.match(
      xml,
      /<testcase name="no_regression:outcome_match\[routine\]" classname="flywheel\.eval\.demo\.outcome_match\.routine"/,
    );
    assert.match(xml, /<failure message="outcome_match on slice routine/);
    const passed = renderGateEvalJunit(resultOf(decide(fixing), null), '');
    assert.deepEqual(await junitSchemaErrors(passed), []);
  });

  it('the schema check rejects what JUnit readers would not take', async () => {
    const xml = renderGateEvalJunit(failed, 'ci-runner');
    const errors = await junitSchemaErrors(xml.replace(/ classname="[^"]*"/, ''));
    assert.match(errors.join('\n'), /classname/);
    assert.notDeepEqual(await junitSchemaErrors(xml.replace('T01:02:03', 'T01:02:03Z')), []);
  });

  it('names the failing axis first in the table and the pull-request comment', () => {
    const text = renderGateEvalTable(failed);
    assert.match(text.split('\n')[0]!, /^flywheel eval demo: FAIL on /);
    assert.match(
      text,
      /Decided by \(dimension, slice\):\n(.*\n)*\s+FAIL\s+outcome_match\s+slice routine\s+outcome_match on slice routine Δ/,
    );
    const md = renderGateEvalMarkdown(failed);
    assert.match(md.split('\n')[0]!, /^## ❌ Flywheel eval — demo: FAIL on /);
    assert.match(md, /\| FAIL \| outcome_match \| routine \| `no_regression:outcome_match\[routine\]` \|/);
    assert.ok(md.indexOf('Decided by') < md.indexOf('Full gate report'));
  });
});

describe('candidate prompt files', () => {
  it('reads a text file as the system prompt and a .json file as {prompt, config}', () => {
    assert.deepEqual(parseCandidatePromptFile('p.txt', 'Be kind.\n'), { prompt: 'Be kind.\n' });
    assert.deepEqual(
      parseCandidatePromptFile(
        'p.json',
        JSON.stringify({ prompt: 'Be kind.', config: { demos: 'x' }, version: 3 }),
      ),
      { prompt: 'Be kind.', config: { demos: 'x' } },
    );
  });

  it('says what is wrong with a bad file and what a good one holds', () => {
    assert.throws(() => parseCandidatePromptFile('p.txt', '  \n'), /p\.txt is empty/);
    assert.throws(
      () => parseCandidatePromptFile('p.json', '{"prompt": '),
      /p\.json is not valid JSON .*\{"prompt": \.\.\., "config"/,
    );
    assert.throws(
      () => parseCandidatePromptFile('p.json', '{"text": "x"}'),
      /p\.json is not a candidate prompt \(prompt: /,
    );
  });
});
