import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ReplayCoaching } from '../../coaching/coaching-replay-service.js';
import { gateCoachingSet, type ReplayedSplit } from '../../release/coaching-set-gate-service.js';
import type { ExampleScores } from '../../release/gate-score-table.js';
import type { GateOutput } from '../../release/gate-scoring-service.js';
import type { Example } from '../../release/served-replay-service.js';

/**
 * The set at the gate with stand-ins for recall and the model: a member is "recalled" by a
 * conversation whose text names it, and the answer is right unless a member the arm holds
 * says `wrong:<where>` for that conversation.
 */
const example = (id: string, text: string): Example => ({
  id,
  messages: [{ role: 'user', content: text }],
  expected: { action: 'respond', arguments: {} },
  slices: [],
});

const arm = (members: readonly string[]): ReplayCoaching => ({
  size: members.length,
  members: members.map((id) => ({ id, version: 1 })),
  recall: (messages) => {
    const text = messages.map((m) => m.content).join(' ');
    const hits = members.filter((id) => text.includes(id));
    return Promise.resolve({
      agent: 'a',
      coaching: hits.map((id) => ({ id, version: 1, similarity: 0.5, tokens: 10 })),
      messages: [],
      traceIds: hits.map((id) => `${id}@1`),
    });
  },
});

/** Right (1) unless a recalled member is marked as harming this conversation (`-id`). */
const answer = async (coaching: ReplayCoaching, ex: Example): Promise<GateOutput> => {
  const text = ex.messages.map((m) => m.content).join(' ');
  const recalled = (await coaching.recall(ex.messages)).coaching.map((c) => c.id);
  const fixes = recalled.some((id) => text.includes(`+${id}`));
  const harms = recalled.some((id) => text.includes(`-${id}`));
  const base = text.includes('fails') ? 0 : 1;
  return {
    exampleId: ex.id,
    messages: ex.messages,
    step: { action: 'respond', arguments: {} },
    score: harms ? 0 : fixes ? 1 : base,
    slices: [],
    recalled,
  };
};
/**
 * Scores as the gate's judging gives them: outcome_match always; a task_completion verdict
 * where the conversation says what the judge makes of it (`judge:accepts` passes any answer).
 */
const scoresOf = (split: ExampleScores['split'], outs: readonly GateOutput[]): ExampleScores[] =>
  outs.map((o) => {
    const text = o.messages.map((m) => m.content).join(' ');
    const judge: Record<string, number> = text.includes('judge:accepts')
      ? { task_completion: 1 }
      : text.includes('judge')
        ? { task_completion: o.score }
        : {};
    return { id: o.exampleId, split, slices: [], scores: { outcome_match: o.score, ...judge } };
  });

async function gate(evalExamples: Example[], traffic: Example[] = [], promptChanged = false) {
  const set = [
    { id: 'good', version: 1 },
    { id: 'broad', version: 1 },
  ];
  const all = arm(['good', 'broad']);
  const none = arm([]);
  const candidateOut = await Promise.all(evalExamples.map((e) => answer(all, e)));
  const baselineOut = await Promise.all(evalExamples.map((e) => answer(none, e)));
  const replayed: ReplayedSplit[] = [{ split: 'eval', examples: evalExamples, candidate: candidateOut }];
  const candidate = scoresOf('eval', candidateOut);
  let reruns = 0;
  const result = await gateCoachingSet({
    set,
    replayed,
    candidate,
    baseline: scoresOf('eval', baselineOut),
    promptChanged,
    active: none,
    withMembers: (ids) => Promise.resolve(arm(ids)),
    run: async (split, coaching, examples) => {
      reruns += examples.length;
      const outputs = await Promise.all(examples.map((e) => answer(coaching, e)));
      return { outputs, scores: scoresOf(split, outputs) };
    },
    tolerance: 0.02,
    traffic,
    withCandidates: all,
  });
  return { result, candidate, replayed, reruns };
}

describe('a coaching set at the gate, with recall and the model stood in for', () => {
  it('leaves out a member that harms an eval example, decides on the set without it, and scopes the gain', async () => {
    const { result, candidate, replayed, reruns } = await gate([
      example('e1', 'fails unless good +good'),
      example('e2', 'routine, broad -broad'),
      example('e3', 'routine'),
    ]);
    assert.deepEqual(result.attribution.kept, [{ id: 'good', version: 1 }]);
    assert.deepEqual(result.attribution.dropped, [{ id: 'broad', version: 1 }]);
    assert.equal(reruns, 1, 'only the example that recalled the left-out member is replayed again');
    assert.equal(candidate.find((e) => e.id === 'e2')!.scores.outcome_match, 1, 'e2 is decided without it');
    assert.deepEqual(replayed[0]!.candidate.find((o) => o.exampleId === 'e2')!.recalled, []);
    assert.deepEqual([...result.scope!.ids], ['e1'], 'the gain is judged where a kept member acts');
  });

  it('catches a member that misfires only on recent passing conversations, which the eval split lacks', async () => {
    const evalExamples = [
      example('e1', 'fails unless good +good'),
      example('e2', 'fails unless broad +broad'),
    ];
    const clean = await gate(evalExamples);
    assert.deepEqual(clean.result.attribution.dropped, [], 'the eval split alone sees no harm');
    const { result } = await gate(evalExamples, [
      example('trace:t1', 'baggage, broad -broad'),
      example('trace:t2', 'baggage again, broad -broad'),
      example('trace:t3', 'unrelated'),
    ]);
    const broad = result.attribution.members.find((m) => m.id === 'broad')!;
    assert.deepEqual(
      {
        recalled: broad.recalled,
        better: broad.better,
        worse: broad.worse,
        kept: broad.kept,
        retire: broad.retire,
      },
      { recalled: 3, better: 1, worse: 2, kept: false, retire: true },
    );
    assert.match(
      broad.detail,
      /1 eval example and 2 recent passing conversations \(2 changed for the worse\)/,
    );
    assert.equal(result.attribution.members.find((m) => m.id === 'good')!.kept, true);
  });

  it("judges a changed passing conversation by the judge's verdict, not by the step the agent took then", async () => {
    const evalExamples = [example('e1', 'fails unless broad +broad')];
    // The step changes on both (outcome against the old step: 0); the judge accepts the new
    // answer on the first (a failure it had missed, now fixed) and rejects it on the second.
    const { result } = await gate(evalExamples, [
      example('trace:t1', 'judge:accepts broad -broad'),
      example('trace:t2', 'judge rejects broad -broad'),
    ]);
    const broad = result.attribution.members.find((m) => m.id === 'broad')!;
    assert.equal(broad.worse, 1, `only the answer the judge rejects counts: ${broad.detail}`);
    assert.equal(broad.kept, false);
    assert.equal(broad.retire, false, 'one better (e1), one worse: left out, not retired');
  });

  it('when every member is left out of a changed prompt, decides on the run without the set it already has', async () => {
    const { result, candidate, replayed, reruns } = await gate(
      [
        example('e1', 'routine, good -good'),
        example('e2', 'routine, broad -broad'),
        example('e3', 'routine'),
      ],
      [],
      true,
    );
    assert.deepEqual(result.attribution.kept, []);
    assert.equal(result.attribution.dropped.length, 2);
    // Replayed once without the set (to judge the members), not a second time to splice.
    assert.equal(reruns, 2, 'e1 and e2, once each');
    assert.deepEqual(
      candidate.map((e) => e.scores.outcome_match),
      [1, 1, 1],
      'e1 and e2 are decided as they run without the set',
    );
    assert.deepEqual(
      replayed[0]!.candidate.map((o) => o.recalled),
      [[], [], []],
    );
    assert.equal(result.scope, undefined, 'the prompt changed: the decision reads every example');
  });
});
