/**
 * GEPA's `tieBreak`: which of the programs tied for the best Pareto-set score is the pick.
 * A scripted search (scores a hash of text and example, in {0, ½, 1}; the teacher writes a
 * new text each time) rebuilds the pool from the requests: every program scored on the
 * whole Pareto set, its parent the reflected candidate. The pick must be the tied program
 * the rule prefers, earliest among equals; settings recorded without the field keep the
 * earliest (the pick before the setting existed), whatever the default.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { optimizerFor } from '../../optimizers/optimizer-registry.js';
import {
  candidateIdOf,
  PromptSearch,
  withComponent,
  type Candidate,
} from '../../optimizers/prompt-search.js';
import { stableHash53 } from '../../optimizers/stable-hash.js';
import { GepaSettings, OptimizerChoice } from '../../schemas/optimizer-config.js';

const trainIds = Array.from({ length: 6 }, (_, i) => `ex-${i}`);
const score = (textId: string, exampleId: string) => (stableHash53(`${textId}|${exampleId}`) % 3) / 2;

interface Pooled {
  id: string;
  parent: string | null;
  scores: number[];
}

function run(seed: number, settings: Record<string, unknown>, unset = false) {
  const choice = OptimizerChoice.parse({ name: 'gepa', settings: { growParetoSet: false, ...settings } });
  if (unset) delete (choice.settings as { tieBreak?: string }).tieBreak;
  const search = new PromptSearch(
    {
      seed,
      baseline: { system: 'txt_base' },
      trainIds,
      budget: { maxRollouts: 160, maxTeacherCalls: null },
      stopping: { patience: null, minDelta: 0, targetScore: null, maxEvaluations: null },
    },
    optimizerFor(choice),
  );
  const pool: Pooled[] = [];
  const parentOf = new Map<string, string>();
  let written = 0;
  for (let step = search.next(); step.kind !== 'done'; step = search.next()) {
    if (step.kind === 'evaluate') {
      const scores = step.exampleIds.map((e) => score(step.candidate.system!, e));
      if (step.purpose === 'full Pareto-set evaluation' && !pool.some((p) => p.id === step.candidateId))
        // The request names only the examples not yet scored; the Pareto set is the whole split.
        pool.push({
          id: step.candidateId,
          parent: parentOf.get(step.candidateId) ?? null,
          scores: trainIds.map((e) => score(step.candidate.system!, e)),
        });
      search.respond({ kind: 'evaluated', scores });
    } else {
      const textId = `txt_${seed}_${written++}`;
      if (step.task.type === 'reflect') {
        const child: Candidate = withComponent(step.task.candidate, step.task.component, textId);
        parentOf.set(candidateIdOf(child), candidateIdOf(step.task.candidate));
      }
      search.respond({ kind: 'taught', textIds: [textId] });
    }
  }
  return { outcome: search.outcome(), pool };
}

const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
const depth = (pool: Pooled[], id: string): number => {
  const parent = pool.find((p) => p.id === id)!.parent;
  return parent === null ? 0 : 1 + depth(pool, parent);
};
const wins = (pool: Pooled[], p: Pooled) =>
  p.scores.filter((s, k) => s === Math.max(...pool.map((q) => q.scores[k]!))).length;

/** The tied-for-best program with the highest key, the earliest among equals. */
function expected(pool: Pooled[], key: (p: Pooled) => number): string {
  const top = Math.max(...pool.map((p) => mean(p.scores)));
  const tied = pool.filter((p) => mean(p.scores) === top);
  return tied.reduce((b, p) => (key(p) > key(b) ? p : b)).id;
}

describe('GEPA tie-break among programs tied for the best', () => {
  const seeds = Array.from({ length: 30 }, (_, i) => i + 1);

  it('settings recorded without the field pick the earliest, as `earliest` does; the default is most_edits', () => {
    assert.equal(GepaSettings.parse({}).tieBreak, 'most_edits');
    for (const seed of seeds.slice(0, 10)) {
      const { outcome, pool } = run(seed, {}, true);
      assert.equal(
        outcome.bestCandidateId,
        expected(pool, () => 0),
        `seed ${seed}`,
      );
      assert.equal(run(seed, { tieBreak: 'earliest' }).outcome.bestCandidateId, outcome.bestCandidateId);
      assert.equal(
        run(seed, {}).outcome.bestCandidateId,
        run(seed, { tieBreak: 'most_edits' }).outcome.bestCandidateId,
      );
    }
  });

  for (const [rule, key] of [
    ['fewest_edits', (pool: Pooled[], p: Pooled) => -depth(pool, p.id)],
    ['most_edits', (pool: Pooled[], p: Pooled) => depth(pool, p.id)],
    ['most_wins', wins],
  ] as const) {
    it(`${rule}: picks the tied program the rule prefers, the earliest among equals`, () => {
      let differs = 0;
      for (const seed of seeds) {
        const { outcome, pool } = run(seed, { tieBreak: rule });
        assert.equal(
          outcome.bestCandidateId,
          expected(pool, (p) => key(pool, p)),
          `seed ${seed}`,
        );
        const old = run(seed, {}, true);
        assert.deepEqual(old.pool, pool, 'the pick does not change the search');
        if (old.outcome.bestCandidateId !== outcome.bestCandidateId) differs++;
      }
      // Fails on the old behaviour: in some runs the rule picks another program than the earliest.
      assert.ok(
        differs > 0,
        `${rule} picked another program than the earliest in ${differs} of ${seeds.length} runs`,
      );
    });
  }
});
