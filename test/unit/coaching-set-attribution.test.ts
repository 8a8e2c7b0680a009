import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { attributeCoachingSet, scoreDelta } from '../../coaching/coaching-set-attribution.js';
import { renderGateReportMarkdown } from '../../release/gate-report-markdown.js';
import { GateReport } from '../../schemas/gate-report.js';

const set = [
  { id: 'good', version: 1 },
  { id: 'broad', version: 2 },
  { id: 'unseen', version: 1 },
];
const ex = (id: string, members: string[], delta: number, split: 'eval' | 'holdout' = 'eval') => ({
  id,
  split,
  members,
  delta,
});

describe('a coaching set, member by member, on the gate examples that recalled each', () => {
  it('leaves out and retires a member that made more of its examples worse than better, and keeps the rest', () => {
    const a = attributeCoachingSet(
      set,
      [
        ex('e1', ['good'], 1),
        ex('e2', ['good'], 0),
        ex('e3', ['broad'], -1),
        ex('e4', ['broad'], -1),
        ex('e5', ['broad'], 1),
      ],
      0.02,
    );
    assert.deepEqual(a.dropped, [{ id: 'broad', version: 2 }]);
    assert.deepEqual(a.kept, [
      { id: 'good', version: 1 },
      { id: 'unseen', version: 1 },
    ]);
    const broad = a.members.find((m) => m.id === 'broad')!;
    assert.deepEqual(
      { recalled: broad.recalled, better: broad.better, worse: broad.worse, kept: broad.kept },
      { recalled: 3, better: 1, worse: 2, kept: false },
    );
    assert.equal(broad.retire, true, 'more worse than better: retired, not only left out');
    assert.match(
      broad.detail,
      /recalled on 3 eval examples: 1 better, 2 worse, 0 unchanged: left out of this release and retired, it made more of them worse than better$/,
    );
    const good = a.members.find((m) => m.id === 'good')!;
    assert.match(good.detail, /^recalled on 2 eval examples: 1 better, 0 worse, 1 unchanged$/);
    assert.match(
      a.members.find((m) => m.id === 'unseen')!.detail,
      /no eval example or recent passing conversation recalled it: kept on no evidence/,
    );
  });

  it('leaves out a member that helps but also misfires, as a candidate to narrow, and says when a conversation was shared', () => {
    const a = attributeCoachingSet(
      set.slice(0, 2),
      [ex('e1', ['good', 'broad'], 1), ex('e2', ['broad'], 1), ex('e3', ['broad'], -1)],
      0.02,
    );
    assert.deepEqual(a.kept, [{ id: 'good', version: 1 }]);
    assert.deepEqual(
      a.dropped,
      [{ id: 'broad', version: 2 }],
      'one routine request made worse is a regression',
    );
    const broad = a.members.find((m) => m.id === 'broad')!;
    assert.equal(broad.retire, false, 'two better, one worse: not retired');
    assert.match(
      broad.detail,
      /\(1 shared with another member of the set\): left out of this release, it stays a candidate: .*narrow its situation/,
    );
  });

  it("treats a difference within the gate's tolerance as noise", () => {
    const noise = attributeCoachingSet(
      set.slice(1, 2),
      [ex('e1', ['broad'], -0.015), ex('e2', ['broad'], 0)],
      0.02,
    );
    assert.equal(noise.members[0]!.worse, 0, 'a judge wobble of 0.015 is not worse');
    assert.equal(noise.members[0]!.kept, true);
    const once = attributeCoachingSet(set.slice(1, 2), [ex('e1', ['broad'], -0.5)], 0.02);
    assert.deepEqual(once.dropped, [{ id: 'broad', version: 2 }]);
    assert.equal(once.members[0]!.retire, true);
  });

  it('scores the difference as the mean over the dimensions both sides measured', () => {
    assert.equal(scoreDelta({ outcome_match: 1, tone: 0.5 }, { outcome_match: 0, tone: 0.5, extra: 1 }), 0.5);
    assert.equal(scoreDelta({ a: 1 }, { b: 0 }), 0, 'nothing measured on both sides is no evidence');
  });

  it("lists each member's evidence in the gate report's Markdown", () => {
    const a = attributeCoachingSet(set.slice(0, 2), [ex('e1', ['good'], 1), ex('e2', ['broad'], -1)], 0.02);
    const report = GateReport.parse({
      passed: true,
      verdict: 'pass',
      failingAssertion: null,
      assertions: [],
      candidate: {},
      baseline: {},
      evalExamples: 2,
      coaching: { active: 1, set: a.kept, members: a.members, dropped: a.dropped },
    });
    const md = renderGateReportMarkdown(report);
    assert.match(
      md,
      /\*\*Coaching:\*\* 1 active memory in both arms; candidate set \(released with the candidate when it passes\): `good` v1/,
    );
    assert.match(
      md,
      /\| `broad` \| 2 \| 1 \| 0 \| 1 \| LEFT OUT, retired \| recalled on 1 eval example: 0 better, 1 worse/,
    );
    assert.match(md, /\| `good` \| 1 \| 1 \| 1 \| 0 \| kept \|/);
  });
});
