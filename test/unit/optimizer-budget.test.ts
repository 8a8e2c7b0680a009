/**
 * Budgets users can reason about: presets and proposals translated into rollouts from the
 * data's size, the floor that keeps a baseline evaluation from eating the whole budget,
 * and GEPA's Pareto set as a fixed-size, seeded, stratified subsample of the train split.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { evaluateCandidate, teach } from '../../activities/search-executor.js';
import { scenarioHarness } from '../../bench/optimization-harness.js';
import { syntheticScenario } from '../../bench/synthetic-scenario.js';
import {
  AUTO_PROPOSALS,
  planBudget,
  proposalCost,
  setupTeacherCalls,
  TEACHER_CALLS_PER_ROLLOUT,
} from '../../optimizers/budget-plan.js';
import { optimizerFor } from '../../optimizers/optimizer-registry.js';
import { allocate, paretoSubsample } from '../../optimizers/pareto-subsample.js';
import { PromptSearch, type SearchResponse } from '../../optimizers/prompt-search.js';
import {
  Budget,
  DEFAULT_MAX_ROLLOUTS,
  DEFAULT_MIN_PROPOSALS,
  DEFAULT_PARETO_SET_SIZE,
  describeBudget,
  OptimizerChoice,
} from '../../schemas/optimizer-config.js';
import { CycleInput } from '../../schemas/cycle-input.js';

const gepa = OptimizerChoice.parse({ name: 'gepa' });
const ids = (n: number, prefix = 'ex') =>
  Array.from({ length: n }, (_, i) => `${prefix}-${String(i).padStart(4, '0')}`);

describe('budget options', () => {
  it('defaults to the light preset, which scales with the data, with a floor of proposals', () => {
    const b = Budget.parse({});
    assert.equal(b.maxRollouts, undefined);
    assert.equal(b.auto, 'light');
    assert.equal(DEFAULT_MAX_ROLLOUTS, 300, 'what histories from before budget plans ran with');
    assert.equal(b.minProposals, DEFAULT_MIN_PROPOSALS);
    assert.equal(Budget.parse({ auto: 'light' }).minProposals, DEFAULT_MIN_PROPOSALS);
    assert.equal(Budget.parse({ maxRollouts: 500 }).minProposals, 0, 'an explicit maxRollouts is a hard cap');
    assert.equal(Budget.parse({ maxRollouts: 500, minProposals: 4 }).minProposals, 4);
    assert.deepEqual(
      Budget.parse(Budget.parse({})),
      Budget.parse({}),
      'parsing is idempotent (cycle → child)',
    );
    assert.equal(
      CycleInput.parse({ agent: 'demo', optimizer: { budget: { auto: 'heavy' } } }).optimizer.budget.auto,
      'heavy',
    );
    assert.equal(describeBudget(Budget.parse({ auto: 'medium' })), 'auto: medium');
    assert.equal(describeBudget(Budget.parse({ proposals: 20 })), '20 proposals');
    assert.equal(describeBudget(Budget.parse({})), 'auto: light');
    assert.equal(describeBudget({}), 'auto: light');
    assert.equal(describeBudget({ maxRollouts: 300 }), '300 rollouts');
  });

  it('rejects a budget given two ways, and an unknown preset, saying what to write', () => {
    const two = Budget.safeParse({ auto: 'light', maxRollouts: 500 });
    assert.equal(two.success, false);
    assert.match(two.error?.issues[0]?.message ?? '', /at most one of maxRollouts, auto and proposals/);
    assert.equal(Budget.safeParse({ auto: 'huge' }).success, false);
    assert.equal(Budget.safeParse({ proposals: 0 }).success, false);
  });
});

describe('budget translation', () => {
  it('GEPA: a proposal costs two minibatches and one full evaluation on the capped Pareto set', () => {
    assert.deepEqual(proposalCost(gepa, 500), {
      unit: 'reflective proposal',
      baselineRollouts: DEFAULT_PARETO_SET_SIZE,
      rolloutsPerProposal: 2 * 3 + DEFAULT_PARETO_SET_SIZE,
      evaluationSetSize: DEFAULT_PARETO_SET_SIZE,
    });
    // Smaller than the cap: the whole train split is the Pareto set.
    assert.equal(proposalCost(gepa, 25).evaluationSetSize, 25);
    const uncapped = OptimizerChoice.parse({ name: 'gepa', settings: { paretoSetSize: null } });
    assert.equal(proposalCost(uncapped, 500).baselineRollouts, 500);
  });

  it('auto levels become rollouts from the train size: growing up to the Pareto cap, then flat', () => {
    const rollouts = (level: 'light' | 'medium' | 'heavy', trainSize: number) =>
      planBudget(gepa, Budget.parse({ auto: level }), { trainSize, components: 1 }).maxRollouts;
    // 20 examples: V = 20, per proposal 26; 500 examples: V = 40, per proposal 46.
    assert.equal(rollouts('light', 20), 20 + AUTO_PROPOSALS.light * 26);
    assert.equal(rollouts('light', 500), 40 + AUTO_PROPOSALS.light * 46);
    assert.equal(rollouts('medium', 500), 40 + AUTO_PROPOSALS.medium * 46);
    assert.equal(rollouts('heavy', 500), 40 + AUTO_PROPOSALS.heavy * 46);
    assert.equal(rollouts('light', 5000), rollouts('light', 500), 'the Pareto cap bounds the cost');
    assert.ok(rollouts('light', 30) < rollouts('light', 40));
    assert.ok(AUTO_PROPOSALS.light < AUTO_PROPOSALS.medium && AUTO_PROPOSALS.medium < AUTO_PROPOSALS.heavy);
    const plan = planBudget(gepa, Budget.parse({ auto: 'medium' }), { trainSize: 500, components: 1 });
    assert.equal(plan.source, 'auto');
    assert.equal(plan.proposals, AUTO_PROPOSALS.medium);
    assert.deepEqual(plan.warnings, []);
  });

  it('agents with tool descriptions get more GEPA proposals (round-robin over components)', () => {
    const proposals = (components: number) =>
      planBudget(gepa, Budget.parse({ auto: 'light' }), { trainSize: 500, components }).proposals;
    assert.equal(proposals(1), AUTO_PROPOSALS.light);
    assert.equal(proposals(4), AUTO_PROPOSALS.light * 3);
    assert.ok(proposals(10) > proposals(4));
    const systemOnly = OptimizerChoice.parse({ name: 'gepa', settings: { components: ['system'] } });
    assert.equal(
      planBudget(systemOnly, Budget.parse({ auto: 'light' }), { trainSize: 500, components: 10 }).proposals,
      AUTO_PROPOSALS.light,
    );
  });

  it('a budget in proposals buys exactly that many for every optimizer', () => {
    for (const name of ['gepa', 'random-search', 'protegi', 'mipro'] as const) {
      const choice = OptimizerChoice.parse({ name });
      const plan = planBudget(choice, Budget.parse({ proposals: 10 }), { trainSize: 120, components: 3 });
      assert.equal(plan.proposals, 10, name);
      assert.equal(plan.maxRollouts, plan.baselineRollouts + 10 * plan.rolloutsPerProposal, name);
    }
  });

  it('an explicit maxRollouts that affords the minimum is kept as it is', () => {
    const plan = planBudget(gepa, Budget.parse({ maxRollouts: 300 }), { trainSize: 222, components: 1 });
    assert.equal(plan.maxRollouts, 300);
    assert.equal(plan.source, 'maxRollouts');
    assert.equal(plan.proposals, Math.floor((300 - 40) / 46));
    assert.deepEqual(plan.warnings, []);
  });
});

describe('the budget floor', () => {
  // Cycle 2 of issue 15: an uncapped Pareto set of 222 examples took 222 of 300 rollouts.
  const uncapped = OptimizerChoice.parse({ name: 'gepa', settings: { paretoSetSize: null } });

  it('raises a budget the baseline would eat to the minimum proposals, and says so before the run', () => {
    // The old default (300 rollouts) with the proposal floor: what cycle 2 of issue 15 needed.
    const plan = planBudget(uncapped, Budget.parse({ maxRollouts: 300, minProposals: 3 }), {
      trainSize: 222,
      components: 1,
    });
    assert.equal(plan.source, 'floor');
    assert.equal(plan.maxRollouts, 222 + DEFAULT_MIN_PROPOSALS * (6 + 222));
    assert.equal(plan.proposals, DEFAULT_MIN_PROPOSALS);
    assert.equal(plan.warnings.length, 1);
    assert.match(plan.warnings[0]!, /300 rollouts buy 0 reflective proposals of gepa on 222 train examples/);
    assert.match(plan.warnings[0]!, /raised to 906 rollouts for the minimum of 3/);
    assert.match(plan.warnings[0]!, /auto \(light, medium, heavy\)/);
  });

  it('an explicit maxRollouts below the minimum stays a hard cap, with a warning before the run', () => {
    const plan = planBudget(uncapped, Budget.parse({ maxRollouts: 300 }), { trainSize: 222, components: 1 });
    assert.equal(plan.maxRollouts, 300);
    assert.equal(plan.source, 'maxRollouts');
    assert.match(
      plan.warnings.join('\n'),
      /Small budget: 300 rollouts buy 0 reflective proposals .* may end without a candidate/,
    );
    // With the default Pareto cap the same number buys five proposals: nothing to say.
    assert.deepEqual(
      planBudget(gepa, Budget.parse({ maxRollouts: 300 }), { trainSize: 222, components: 1 }).warnings,
      [],
    );
  });

  it('the floor honours a configured minimum, and minProposals 0 keeps a hard cap', () => {
    const five = planBudget(gepa, Budget.parse({ maxRollouts: 100, minProposals: 5 }), {
      trainSize: 500,
      components: 1,
    });
    assert.equal(five.maxRollouts, 40 + 5 * 46);
    const hard = planBudget(gepa, Budget.parse({ maxRollouts: 30, minProposals: 0 }), {
      trainSize: 500,
      components: 1,
    });
    assert.equal(hard.maxRollouts, 30);
    assert.match(hard.warnings.join('\n'), /Small budget/);
  });

  it('warns when the teacher-call cap cannot buy the minimum of GEPA proposals', () => {
    const plan = planBudget(gepa, Budget.parse({ auto: 'light', maxTeacherCalls: 2 }), {
      trainSize: 100,
      components: 1,
    });
    assert.match(plan.warnings.join('\n'), /maxTeacherCalls 2 cannot buy 3 reflective proposals/);
  });

  it('a planned GEPA run on a large train split spends its budget on proposals, not on the baseline', async () => {
    const h = await scenarioHarness(syntheticScenario());
    assert.ok(h.trainIds.length > 100, `a large train split (${h.trainIds.length})`);
    // Fewer rollouts than the train split holds, as in cycle 2, with the floor on.
    const plan = planBudget(gepa, Budget.parse({ maxRollouts: h.trainIds.length, minProposals: 3 }), {
      trainSize: h.trainIds.length,
      components: 1,
    });
    const search = new PromptSearch(
      {
        seed: 5,
        baseline: h.baseline,
        trainIds: h.trainIds,
        budget: { maxRollouts: plan.maxRollouts, maxTeacherCalls: null },
        stopping: { patience: null, minDelta: 0, targetScore: null, maxEvaluations: null },
        warnings: plan.warnings,
      },
      optimizerFor(gepa),
    );
    const first = search.next();
    assert.equal(first.kind, 'evaluate');
    assert.equal(
      first.kind === 'evaluate' && first.exampleIds.length,
      DEFAULT_PARETO_SET_SIZE,
      'baseline on the capped set',
    );
    for (let step = search.next(); step.kind !== 'done'; step = search.next()) {
      const response: SearchResponse =
        step.kind === 'evaluate'
          ? {
              kind: 'evaluated',
              scores: (await evaluateCandidate(h.io, step.candidate, step.candidateId, step.exampleIds))
                .scores,
            }
          : { kind: 'taught', textIds: (await teach(h.io, step.task, step.sample)).textIds };
      search.respond(response);
    }
    const outcome = search.outcome();
    assert.ok(outcome.teacherCalls >= plan.minProposals, `${outcome.teacherCalls} proposals`);
    assert.ok(outcome.rollouts <= plan.maxRollouts);
    assert.deepEqual(
      outcome.warnings.slice(0, plan.warnings.length),
      plan.warnings,
      'planning warnings lead',
    );
  });
});

describe('the teacher-call cap', () => {
  it('defaults to two teacher calls per planned rollout, and a given cap is kept', () => {
    for (const budget of [
      {},
      { auto: 'heavy' },
      { maxRollouts: 500 },
      { maxRollouts: 30, minProposals: 3 },
    ]) {
      const plan = planBudget(gepa, Budget.parse(budget), { trainSize: 500, components: 4 });
      assert.equal(
        plan.maxTeacherCalls,
        TEACHER_CALLS_PER_ROLLOUT * plan.maxRollouts,
        JSON.stringify(budget),
      );
      assert.equal(plan.teacherCallSource, 'default');
    }
    const given = planBudget(gepa, Budget.parse({ auto: 'light', maxTeacherCalls: 60 }), {
      trainSize: 500,
      components: 1,
    });
    assert.equal(given.maxTeacherCalls, 60);
    assert.equal(given.teacherCallSource, 'maxTeacherCalls');
    assert.equal(
      Budget.parse({}).maxTeacherCalls,
      null,
      'inputs still parse as before: the plan fills it in',
    );
  });

  it('leaves MIPRO its dataset summary and proposals on top, however large the train split', () => {
    const mipro = OptimizerChoice.parse({ name: 'mipro' });
    // One summarizing call per 10 examples, then numCandidates − 1 proposals.
    assert.equal(setupTeacherCalls(mipro, 20_000), 2_000 + 5);
    assert.equal(
      setupTeacherCalls(
        OptimizerChoice.parse({ name: 'mipro', settings: { datasetSummary: false } }),
        20_000,
      ),
      5,
    );
    assert.equal(setupTeacherCalls(gepa, 20_000), 0);
    const plan = planBudget(mipro, Budget.parse({}), { trainSize: 20_000, components: 1 });
    assert.ok(plan.maxRollouts < 2_005, 'the rollout budget alone would not cover the summary');
    assert.equal(plan.maxTeacherCalls, 2_005 + TEACHER_CALLS_PER_ROLLOUT * plan.maxRollouts);
  });

  it('stops a GEPA run whose teacher keeps answering the text it was shown at the default cap', () => {
    // Every reflection returns the parent's own text: no child, no rollout, one teacher call
    // each. Only GEPA's idle limit ended such a run before. Since avoidRepeatedReflections
    // the run asks once per set of failures (next test); the cap still holds for checkpoints
    // recorded without it.
    const trainIds = ids(6);
    const plan = planBudget(gepa, Budget.parse({ maxRollouts: 12 }), { trainSize: 6, components: 1 });
    const old = OptimizerChoice.parse({ name: 'gepa' });
    delete (old.settings as { avoidRepeatedReflections?: boolean }).avoidRepeatedReflections;
    const run = (maxTeacherCalls: number | null) => {
      const search = new PromptSearch(
        {
          seed: 1,
          baseline: { system: 'txt_base' },
          trainIds,
          budget: { maxRollouts: plan.maxRollouts, maxTeacherCalls },
          stopping: { patience: null, minDelta: 0, targetScore: null, maxEvaluations: null },
        },
        optimizerFor(old),
      );
      for (let step = search.next(); step.kind !== 'done'; step = search.next())
        search.respond(
          step.kind === 'evaluate'
            ? { kind: 'evaluated', scores: step.exampleIds.map(() => 0) }
            : { kind: 'taught', textIds: ['txt_base'] },
        );
      return search.outcome();
    };
    const capped = run(plan.maxTeacherCalls);
    assert.equal(plan.maxTeacherCalls, 24);
    assert.equal(capped.teacherCalls, 24);
    assert.match(capped.stopReason, /teacher call budget reached \(24\)/);
    assert.equal(capped.rollouts, 6, 'only the baseline was ever scored');
    const unbounded = run(null);
    assert.ok(unbounded.teacherCalls >= 200, `${unbounded.teacherCalls} teacher calls without the cap`);
  });

  it('asks the teacher once about failures it answered with the parent’s own text (avoidRepeatedReflections)', () => {
    // The run above with today's settings: after a reflection on three failures returns the
    // parent's text, a minibatch failing only on those is not reflected on again.
    const search = new PromptSearch(
      {
        seed: 1,
        baseline: { system: 'txt_base' },
        trainIds: ids(6),
        budget: { maxRollouts: 12, maxTeacherCalls: null },
        stopping: { patience: null, minDelta: 0, targetScore: null, maxEvaluations: null },
      },
      optimizerFor(gepa),
    );
    for (let step = search.next(); step.kind !== 'done'; step = search.next())
      search.respond(
        step.kind === 'evaluate'
          ? { kind: 'evaluated', scores: step.exampleIds.map(() => 0) }
          : { kind: 'taught', textIds: ['txt_base'] },
      );
    const outcome = search.outcome();
    assert.equal(outcome.teacherCalls, 2, 'one call per minibatch of new failures (6 examples, 3 a batch)');
    assert.equal(outcome.rollouts, 6);
    assert.match(outcome.stopReason, /the optimizer finished/);
  });

  it('shows the teacher the latest rewrites of a parent it rejected (showTriedReflections); old checkpoints do not', () => {
    // Every rewrite is new and no better: each is tried on the minibatch and rejected.
    const run = (unset: string[]) => {
      const choice = OptimizerChoice.parse({ name: 'gepa' });
      for (const key of unset) delete (choice.settings as Record<string, unknown>)[key];
      const search = new PromptSearch(
        {
          seed: 3,
          baseline: { system: 'txt_base' },
          trainIds: ids(6),
          budget: { maxRollouts: 60, maxTeacherCalls: null },
          stopping: { patience: null, minDelta: 0, targetScore: null, maxEvaluations: null },
        },
        optimizerFor(choice),
      );
      const shown: (string[] | undefined)[] = [];
      for (let step = search.next(); step.kind !== 'done'; step = search.next()) {
        if (step.kind === 'evaluate') {
          search.respond({ kind: 'evaluated', scores: step.exampleIds.map(() => 0) });
          continue;
        }
        const task = step.task;
        assert.equal(task.type, 'reflect');
        shown.push(task.triedIds);
        search.respond({ kind: 'taught', textIds: [`txt_r${step.sample}`] });
      }
      return shown;
    };
    const shown = run([]);
    assert.ok(shown.length >= 10, `${shown.length} reflections`);
    assert.equal(shown[0], undefined, 'nothing tried yet');
    shown.forEach((ids, k) => {
      if (k === 0) return;
      const answers = Array.from({ length: k }, (_, j) => `txt_r${j}`);
      assert.deepEqual(ids, answers.slice(-5), `reflection ${k} shows the latest five rejected`);
    });
    assert.ok(
      run(['showTriedReflections']).every((ids) => ids === undefined),
      'settings without the field show nothing',
    );
  });

  it('stops asking about failures once the teacher writes a rewrite it was shown as rejected (avoidListedRepeats)', () => {
    // Failures no rewrite fixes (a mislabelled example): the teacher has one answer only.
    const run = (unset: string[]) => {
      const choice = OptimizerChoice.parse({ name: 'gepa' });
      for (const key of unset) delete (choice.settings as Record<string, unknown>)[key];
      const search = new PromptSearch(
        {
          seed: 5,
          baseline: { system: 'txt_base' },
          trainIds: ids(6),
          budget: { maxRollouts: 60, maxTeacherCalls: null },
          stopping: { patience: null, minDelta: 0, targetScore: null, maxEvaluations: null },
        },
        optimizerFor(choice),
      );
      for (let step = search.next(); step.kind !== 'done'; step = search.next())
        search.respond(
          step.kind === 'evaluate'
            ? { kind: 'evaluated', scores: step.exampleIds.map(() => 0) }
            : { kind: 'taught', textIds: ['txt_same'] },
        );
      return search.outcome();
    };
    const avoiding = run([]);
    assert.ok(avoiding.teacherCalls <= 4, `${avoiding.teacherCalls} teacher calls`);
    assert.equal(avoiding.rollouts, 9, 'the baseline and the one rewrite on its minibatch');
    const before = run(['avoidListedRepeats']);
    assert.ok(before.teacherCalls >= 100, `${before.teacherCalls} teacher calls without it`);
    assert.equal(before.rollouts, 9);
  });

  it('does not reflect again on failures a parent’s reflection answered with a program already in the pool', () => {
    // Pareto growth off, so the parent stays in the running beside the child that fixed the
    // rare example: its reflections on that failure kept proposing the child again.
    const runs = [true, false].map((avoid) =>
      runRareFix({ growParetoSet: false, avoidRepeatedReflections: avoid }),
    );
    const [avoiding, repeating] = runs as [RareFixRun, RareFixRun];
    assert.equal(avoiding.fixProposals, 2, 'the fix once as a child, once repeated');
    assert.ok(repeating.fixProposals >= 10, `${repeating.fixProposals} proposals of the fix without it`);
    assert.ok(
      avoiding.outcome.teacherCalls * 4 <= repeating.outcome.teacherCalls,
      `${avoiding.outcome.teacherCalls} vs ${repeating.outcome.teacherCalls} teacher calls`,
    );
    assert.equal(avoiding.outcome.bestScore, repeating.outcome.bestScore);
  });
});

describe("GEPA's Pareto subsample", () => {
  const train = ids(300);

  it('has the configured size, all of a smaller split, and the whole split when uncapped', () => {
    assert.equal(paretoSubsample(train, 40, 1).length, 40);
    assert.equal(new Set(paretoSubsample(train, 40, 1)).size, 40);
    assert.ok(paretoSubsample(train, 40, 1).every((id) => train.includes(id)));
    assert.deepEqual(paretoSubsample(train.slice(0, 30), 40, 1), train.slice(0, 30));
    assert.deepEqual(paretoSubsample(train, null, 1), train);
  });

  it('is a function of the seed and the split: same seed, same set, whatever the input order', () => {
    const a = paretoSubsample(train, 40, 7);
    assert.deepEqual(paretoSubsample([...train].reverse(), 40, 7), a);
    assert.notDeepEqual(paretoSubsample(train, 40, 8), a, 'another seed draws another set');
  });

  it('keeps every stratum represented and shares the rest in proportion', () => {
    // 240 routine examples, 50 of cluster a, 9 of b, 1 of c.
    const strata: Record<string, string> = {};
    train.forEach((id, i) => (strata[id] = i < 240 ? 'routine' : i < 290 ? 'a' : i < 299 ? 'b' : 'c'));
    const sample = paretoSubsample(train, 30, 3, strata);
    const count = (s: string) => sample.filter((id) => strata[id] === s).length;
    assert.equal(sample.length, 30);
    assert.equal(count('c'), 1, 'a one-example cluster is not dropped');
    assert.ok(count('b') >= 1);
    assert.ok(count('routine') >= 22 && count('routine') <= 25, `routine ${count('routine')}`);
    assert.ok(count('a') >= 4 && count('a') <= 6, `a ${count('a')}`);
    // Unstratified, a 1-in-300 cluster is usually missed.
    const misses = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10].filter(
      (seed) => !paretoSubsample(train, 30, seed).some((id) => strata[id] === 'c'),
    ).length;
    assert.ok(misses >= 5, `unstratified samples missed cluster c ${misses} times of 10`);
  });

  it('allocation sums to the size and never exceeds a stratum', () => {
    assert.deepEqual(allocate([240, 50, 9, 1], 30), [22, 5, 2, 1]);
    assert.deepEqual(allocate([5, 5], 3), [2, 1]);
    assert.deepEqual(allocate([1, 1, 1], 2), [1, 1, 0]);
    assert.deepEqual(allocate([2, 3], 10), [2, 3]);
  });

  it('GEPA scores the baseline on the subsample and reflects on minibatches from the whole split', async () => {
    const h = await scenarioHarness(syntheticScenario());
    const choice = OptimizerChoice.parse({ name: 'gepa', settings: { paretoSetSize: 20 } });
    const search = new PromptSearch(
      {
        seed: 2,
        baseline: h.baseline,
        trainIds: h.trainIds,
        budget: { maxRollouts: 400, maxTeacherCalls: null },
        stopping: { patience: null, minDelta: 0, targetScore: null, maxEvaluations: null },
      },
      optimizerFor(choice),
    );
    const pareto = new Set(paretoSubsample(h.trainIds, 20, 2));
    const seen = new Set<string>();
    let first = true;
    for (let step = search.next(); step.kind !== 'done'; step = search.next()) {
      if (step.kind === 'evaluate') {
        if (step.purpose === 'full Pareto-set evaluation') {
          if (first)
            assert.deepEqual(new Set(step.exampleIds), pareto, 'the baseline is scored on the subsample');
          first = false;
          // The set grows only by minibatch examples an accepted child won (growParetoSet).
          assert.ok(
            step.exampleIds.every((id) => pareto.has(id) || seen.has(id)),
            'full evaluations stay on the Pareto set and the examples it grew by',
          );
        } else step.exampleIds.forEach((id) => seen.add(id));
        const { scores } = await evaluateCandidate(h.io, step.candidate, step.candidateId, step.exampleIds);
        search.respond({ kind: 'evaluated', scores });
      } else {
        search.respond({ kind: 'taught', textIds: (await teach(h.io, step.task, step.sample)).textIds });
      }
    }
    assert.ok(
      [...seen].some((id) => !pareto.has(id)),
      'minibatches draw examples outside the Pareto set',
    );
  });

  it('grows by an example an accepted child won but the subsample could not see; old checkpoints do not', () => {
    const grown = runRareFix({});
    assert.equal(grown.outcome.best.system, 'txt_fix', 'the child that fixed the rare example is picked');
    assert.equal(grown.outcome.bestScore, 4 / 5, 'scored on the subsample and the rare example');
    // Recorded before the settings (and before tieBreak, whose most_edits would pick the tied
    // child): the child ties its parent on the subsample, the parent stays.
    const before = runRareFix({}, ['growParetoSet', 'avoidRepeatedReflections', 'tieBreak']);
    assert.equal(before.outcome.best.system, 'txt_base');
    assert.equal(before.outcome.bestScore, 3 / 4);
    assert.ok(before.fixProposals >= 10, `${before.fixProposals} proposals of the fix`);
  });
});

interface RareFixRun {
  outcome: ReturnType<PromptSearch['outcome']>;
  /** Reflections answered with the fix, the first included. */
  fixProposals: number;
}

/**
 * GEPA with a 4-example Pareto set on 12 examples: every program fails one example of the
 * subsample (so no score is perfect and no tie is broken on the train split), and one example
 * outside it only `txt_fix` passes. The teacher answers a reflection on the baseline that
 * shows that example with `txt_fix`, and any other with the parent's own text.
 */
function runRareFix(settings: Record<string, unknown>, unset: string[] = []): RareFixRun {
  const choice = OptimizerChoice.parse({ name: 'gepa', settings: { paretoSetSize: 4, ...settings } });
  // A checkpoint recorded before a setting existed lacks it.
  for (const key of unset) delete (choice.settings as Record<string, unknown>)[key];
  const trainIds = ids(12);
  const seed = 4;
  const subsample = paretoSubsample(trainIds, 4, seed);
  const noisy = subsample[0]!;
  const rare = trainIds.find((id) => !subsample.includes(id))!;
  const score = (text: string, id: string) =>
    id === noisy ? 0 : id === rare ? (text === 'txt_fix' ? 1 : 0) : 1;
  const search = new PromptSearch(
    {
      seed,
      baseline: { system: 'txt_base' },
      trainIds,
      budget: { maxRollouts: 300, maxTeacherCalls: null },
      stopping: { patience: null, minDelta: 0, targetScore: null, maxEvaluations: null },
    },
    optimizerFor(choice),
  );
  let fixProposals = 0;
  for (let step = search.next(); step.kind !== 'done'; step = search.next()) {
    if (step.kind === 'evaluate') {
      const text = step.candidate.system!;
      search.respond({ kind: 'evaluated', scores: step.exampleIds.map((id) => score(text, id)) });
      continue;
    }
    const task = step.task;
    assert.equal(task.type, 'reflect');
    const parent = task.candidate.system!;
    const fix = parent === 'txt_base' && task.evidence.exampleIds.includes(rare);
    if (fix) fixProposals++;
    search.respond({ kind: 'taught', textIds: [fix ? 'txt_fix' : parent] });
  }
  return { outcome: search.outcome(), fixProposals };
}
