/**
 * MIPRO's proposal rounds (issue 16): later rounds rewrite the best program so far from its
 * failures, the validation set grows by failure modes it lacked, and settings recorded before
 * `rounds` existed run the single round they ran.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isDeepStrictEqual } from 'node:util';
import { evaluateCandidate, teach } from '../../activities/search-executor.js';
import { scenarioHarness, type ScenarioHarness } from '../../bench/optimization-harness.js';
import { syntheticScenario } from '../../bench/synthetic-scenario.js';
import { failuresFirst } from '../../optimizers/mipro.js';
import { optimizerFor } from '../../optimizers/optimizer-registry.js';
import {
  candidateIdOf,
  PromptSearch,
  type Candidate,
  type SearchRequest,
  type SearchSetup,
} from '../../optimizers/prompt-search.js';
import { OptimizerChoice } from '../../schemas/optimizer-config.js';
import { AIRLINE_SCENARIO, loadScenario } from '../simulator/scenario.js';

/** Runs MIPRO in process; each request is kept with the pick the run had when it was asked. */
async function run(h: ScenarioHarness, settings: Record<string, unknown>, seed: number, maxRollouts = 6000) {
  const choice = OptimizerChoice.parse({ name: 'mipro', settings });
  if (!('rounds' in settings)) delete (choice.settings as { rounds?: number | null }).rounds;
  const setup: SearchSetup = {
    seed,
    baseline: h.baseline,
    trainIds: h.trainIds,
    budget: { maxRollouts, maxTeacherCalls: null },
    stopping: { patience: null, minDelta: 0, targetScore: null, maxEvaluations: null },
  };
  const search = new PromptSearch(setup, optimizerFor(choice));
  const steps: { request: SearchRequest; pick: Candidate; textIds: string[] }[] = [];
  for (let step = search.next(); step.kind !== 'done'; step = search.next()) {
    const pick = search.outcome().best;
    if (step.kind === 'evaluate') {
      const { scores } = await evaluateCandidate(h.io, step.candidate, step.candidateId, step.exampleIds);
      search.respond({ kind: 'evaluated', scores });
      steps.push({ request: step, pick, textIds: [] });
    } else {
      const { textIds } = await teach(h.io, step.task, step.sample);
      search.respond({ kind: 'taught', textIds });
      steps.push({ request: step, pick, textIds });
    }
  }
  const instruct = steps.flatMap((s) =>
    s.request.kind === 'teach' && s.request.task.type === 'instruct'
      ? [{ task: s.request.task, pick: s.pick, textIds: s.textIds }]
      : [],
  );
  const evaluations = steps.flatMap((s) => (s.request.kind === 'evaluate' ? [s.request] : []));
  return { outcome: search.outcome(), instruct, evaluations, steps };
}

/** Scores of a candidate on examples it was already run on (stored outputs; no new rollouts). */
async function storedScores(h: ScenarioHarness, candidate: Candidate, exampleIds: string[]) {
  return (await evaluateCandidate(h.io, candidate, candidateIdOf(candidate), exampleIds)).scores;
}

describe('MIPRO rounds', async () => {
  const airline = await scenarioHarness(loadScenario(AIRLINE_SCENARIO));
  const synthetic = await scenarioHarness(syntheticScenario());

  it('shows the proposer the known failures first, then passes, then examples not run', () => {
    const program: Candidate = { system: 'txt_p' };
    const known: Record<string, number> = { a: 1, b: 0, c: 0.5, d: 1 };
    const ctx = { cached: (_: Candidate, id: string) => known[id] };
    assert.deepEqual(failuresFirst(ctx, program, ['e', 'a', 'b', 'f', 'c', 'd'], 10), [
      'b',
      'c',
      'a',
      'd',
      'e',
      'f',
    ]);
    assert.deepEqual(failuresFirst(ctx, program, ['e', 'a', 'b', 'f', 'c', 'd'], 3), ['b', 'c', 'a']);
  });

  it("grounds the first round's proposals in the baseline's failures", async () => {
    const { instruct } = await run(airline, { numCandidates: 4, rounds: 1 }, 3);
    assert.equal(instruct.length, 3);
    for (const { task } of instruct) {
      assert.deepEqual(task.candidate, airline.baseline);
      assert.equal(task.evidence.exampleIds.length, 10);
      const scores = await storedScores(airline, airline.baseline, task.evidence.exampleIds);
      assert.ok(
        scores.every((s) => s < 1),
        'the baseline fails half the airline split, so ten failures are shown',
      );
    }
  });

  it('a later round rewrites the best program so far, shown its failures on the validation set', async () => {
    const { instruct, outcome } = await run(synthetic, { numCandidates: 4, rounds: null }, 1, 3000);
    const later = instruct.filter(({ task }) => !isDeepStrictEqual(task.candidate, synthetic.baseline));
    assert.ok(later.length >= 3, `${later.length} proposals after the first round`);
    for (const { task, pick } of later) {
      assert.deepEqual(task.candidate, pick, 'the parent is the pick when the round starts');
      const scores = await storedScores(synthetic, task.candidate, task.evidence.exampleIds);
      assert.ok(scores.length > 0 && scores.every((s) => s < 1), 'only its failures are shown');
    }
    assert.ok(outcome.bestScore > (outcome.baselineScore ?? 1));
    // Rewrites of rewrites fix more failure modes than any single rewrite of the baseline.
    const firstRound = instruct.filter(({ task }) => isDeepStrictEqual(task.candidate, synthetic.baseline));
    const firstRoundTests = await Promise.all(
      firstRound
        .flatMap(({ textIds }) => textIds)
        .map((id) => synthetic.testScore({ ...synthetic.baseline, system: id })),
    );
    assert.ok((await synthetic.testScore(outcome.best)) > Math.max(...firstRoundTests));
  });

  it('scores the best program on the rest of the train split when a round finds nothing better, never on an example a demo set shows', async () => {
    let grown = 0;
    for (const seed of [0, 1, 2, 3]) {
      const { steps, evaluations } = await run(airline, { numCandidates: 12, rounds: null }, seed);
      const shown = new Set(
        steps.flatMap((s) =>
          s.request.kind === 'teach' && s.request.task.type === 'demos' ? s.request.task.exampleIds : [],
        ),
      );
      const rest = evaluations.filter((e) => e.purpose === 'best program on the rest of the train split');
      for (const e of rest) {
        assert.ok(
          e.exampleIds.every((id) => !shown.has(id)),
          'no demo is graded on itself',
        );
        const scores = await storedScores(airline, e.candidate, e.exampleIds);
        const missed = e.exampleIds.filter((_, k) => scores[k]! < 1);
        if (missed.length === 0) continue;
        grown++;
        // Those it fails join the validation set: later trials score other candidates on them.
        const after = evaluations.slice(evaluations.indexOf(e) + 1);
        assert.ok(
          after.some((x) => x.purpose.includes('trial') && missed.some((id) => x.exampleIds.includes(id))),
        );
      }
    }
    assert.ok(grown > 0, 'some airline seed had failure modes its validation set lacked');
  });

  it('settings recorded before rounds existed run the single round they ran', async () => {
    const { instruct, evaluations, outcome } = await run(airline, { numCandidates: 4 }, 3);
    assert.equal(instruct.length, 3);
    assert.ok(instruct.every(({ task }) => isDeepStrictEqual(task.candidate, airline.baseline)));
    // As before: grounding examples, then the proposals, then the baseline's full evaluation.
    const purposes = evaluations.map((e) => e.purpose);
    assert.ok(
      purposes.indexOf('grounding examples for the proposer') < purposes.indexOf('baseline full evaluation'),
    );
    assert.ok(!purposes.some((p) => p.includes('rest of the train split')));
    assert.equal(outcome.stopReason, 'the optimizer finished');
    const rounded = await run(airline, { numCandidates: 4, rounds: null }, 3);
    assert.ok(rounded.instruct.length > instruct.length, 'rounds: null goes on while the budget lasts');
  });
});
