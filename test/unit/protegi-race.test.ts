/**
 * ProTeGi's race selection (issue 16): arms scored on shared examples, failures first, the
 * better half kept as the examples double; survivors scored on the whole train split and
 * accepted as soon as they beat the incumbent; settings recorded before `selection` existed
 * select with the bandit.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { evaluateCandidate, teach } from '../../activities/search-executor.js';
import { scenarioHarness } from '../../bench/optimization-harness.js';
import { raceArms, raceCost } from '../../optimizers/arm-race.js';
import { optimizerFor } from '../../optimizers/optimizer-registry.js';
import {
  meanOf,
  PromptSearch,
  type Candidate,
  type Optimizer,
  type SearchRequest,
  type SearchSetup,
} from '../../optimizers/prompt-search.js';
import { OptimizerChoice } from '../../schemas/optimizer-config.js';
import { AIRLINE_SCENARIO, loadScenario } from '../simulator/scenario.js';

const trainIds = Array.from({ length: 20 }, (_, i) => `e${String(i).padStart(2, '0')}`);
const setup = (seed = 1): SearchSetup => ({
  seed,
  baseline: { system: 'arm0' },
  trainIds,
  budget: { maxRollouts: 10_000, maxTeacherCalls: null },
  stopping: { patience: null, minDelta: 0, targetScore: null, maxEvaluations: null },
});
/** arm0 (the parent) fails e00-e04; armK fixes the first K of them (all from arm5); arm9 fixes all but breaks e19. */
function score(system: string, example: string): number {
  const k = Number(system.slice(3));
  const i = Number(example.slice(1));
  if (k === 9) return i === 19 ? 0 : 1;
  return i < 5 && i >= k ? 0 : 1;
}
const arms: Candidate[] = Array.from({ length: 10 }, (_, k) => ({ system: `arm${k}` }));

function drive(optimizer: Optimizer) {
  const search = new PromptSearch(setup(), optimizer);
  const evaluations: Extract<SearchRequest, { kind: 'evaluate' }>[] = [];
  for (let step = search.next(); step.kind !== 'done'; step = search.next()) {
    assert.equal(step.kind, 'evaluate');
    if (step.kind !== 'evaluate') break;
    evaluations.push(step);
    search.respond({
      kind: 'evaluated',
      scores: step.exampleIds.map((e) => score(step.candidate.system!, e)),
    });
  }
  return { outcome: search.outcome(), evaluations };
}

describe('ProTeGi race selection', () => {
  it('scores every arm on the same examples, the known failures first, and keeps the better half as they double', () => {
    let ranked: { index: number; score: number }[] = [];
    const { evaluations } = drive(function* (ctx) {
      ctx.incumbent(arms[0]!, meanOf(yield* ctx.evaluate(arms[0]!, trainIds, 'baseline')));
      ranked = yield* raceArms(ctx, arms, 2, 4, { score: 0.75 });
    });
    // Later stages ask only for the examples an arm has not been run on.
    const stage1 = evaluations.filter((e) => e.purpose === 'race stage').slice(0, 9);
    assert.ok(
      stage1.every((e) => e.exampleIds.length === 4),
      'every new arm in the first stage (the parent is cached)',
    );
    assert.ok(
      stage1.every((e) => e.exampleIds.every((id) => Number(id.slice(1)) < 5)),
      'the first stage reads only examples the parent failed',
    );
    assert.deepEqual(new Set(stage1.map((e) => e.exampleIds.join())).size, 1, 'shared examples');
    assert.deepEqual(
      ranked.map((r) => r.index),
      [5, 6],
      'survivors best first, lower index on ties; the arm that also broke an example is out',
    );
    assert.deepEqual(
      ranked.map((r) => r.score),
      [1, 1],
    );
  });

  it('raceCost is what a race spends on arms none of which was scored before', () => {
    for (const [first, keep] of [
      [4, 2],
      [2, 4],
      [8, 1],
      [32, 2],
    ] as const) {
      const { outcome } = drive(function* (ctx) {
        yield* raceArms(ctx, arms.slice(1), keep, first, { score: 1 });
      });
      assert.equal(
        outcome.rollouts,
        raceCost(9, keep, trainIds.length, first),
        `first ${first}, keep ${keep}`,
      );
    }
  });

  it('accepts a rewrite early: the leader of the first stage, ahead of the pick there, is scored on the whole split at once', () => {
    const { outcome, evaluations } = drive(function* (ctx) {
      const incumbent = { score: meanOf(yield* ctx.evaluate(arms[0]!, trainIds, 'baseline')) };
      ctx.incumbent(arms[0]!, incumbent.score);
      yield* raceArms(ctx, arms, 2, 4, incumbent);
    });
    const firstLeader = evaluations.findIndex((e) => e.purpose === 'race leader');
    assert.equal(firstLeader, 10, 'right after the first stage (baseline + 9 arms)');
    const [, early] = outcome.trajectory;
    assert.ok(early && early.score > 0.75, 'the leader became the pick');
    assert.equal(
      early.rollouts,
      20 + 9 * 4 + 16,
      'baseline, first stage, the leader on the other 16 examples',
    );
    assert.ok(early.rollouts < outcome.rollouts, 'before the race ended');
    assert.equal(outcome.bestScore, 1, 'the best arm is the pick at the end');
  });

  it('keeps the pick when no survivor beats it, even if the race dropped the pick on a prefix', () => {
    const { outcome } = drive(function* (ctx) {
      ctx.incumbent(arms[9]!, 0.97);
      yield* raceArms(ctx, [arms[0]!, arms[1]!, arms[2]!], 1, 4, { score: 0.97 });
    });
    assert.equal(outcome.best.system, 'arm9');
    assert.equal(outcome.trajectory.length, 1, 'no survivor scoring 0.85 became the pick');
  });
});

describe('ProTeGi selection setting', () => {
  it('new runs race; settings recorded before `selection` existed select with the bandit', async () => {
    const h = await scenarioHarness(loadScenario(AIRLINE_SCENARIO));
    const purposes = async (settings: Record<string, unknown>, recordedBefore: boolean) => {
      const choice = OptimizerChoice.parse({ name: 'protegi', settings });
      if (choice.name !== 'protegi') throw new Error('unreachable');
      if (recordedBefore) {
        const old: Record<string, unknown> = { ...choice.settings };
        delete old.selection;
        delete old.raceFirstExamples;
        Object.assign(choice, { settings: old });
      }
      const search = new PromptSearch(
        {
          ...setup(3),
          baseline: h.baseline,
          trainIds: h.trainIds,
          budget: { maxRollouts: 900, maxTeacherCalls: null },
        },
        optimizerFor(choice),
      );
      const seen = new Set<string>();
      for (let step = search.next(); step.kind !== 'done'; step = search.next()) {
        if (step.kind === 'evaluate') {
          seen.add(step.purpose);
          const { scores } = await evaluateCandidate(h.io, step.candidate, step.candidateId, step.exampleIds);
          search.respond({ kind: 'evaluated', scores });
        } else {
          search.respond({ kind: 'taught', textIds: (await teach(h.io, step.task, step.sample)).textIds });
        }
      }
      return { seen, outcome: search.outcome() };
    };
    const settings = { rounds: 3, minibatchSize: 16, bandit: { rounds: 2, samplesPerPull: 8 } };
    const raced = await purposes(settings, false);
    const old = await purposes(settings, true);
    assert.ok(raced.seen.has('race stage') && ![...raced.seen].some((p) => p.startsWith('bandit')));
    assert.ok(old.seen.has('bandit pull (ucb)') && !old.seen.has('race stage'));
    assert.ok(
      raced.outcome.bestScore > (raced.outcome.baselineScore ?? 1),
      'the race improves on the baseline',
    );
  });
});
