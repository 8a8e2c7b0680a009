import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { artifactChangeMessage } from '../../registry/artifact-change-message.js';
import {
  canonicalJson,
  changedSections,
  describeSectionChange,
  isArtifactKind,
  patchSections,
  POLICY_SECTIONS,
  sectionHistory,
  versionBefore,
  withSectionFrom,
} from '../../registry/artifact-kinds.js';
import { JUDGE_RUBRICS } from '../../evaluation/judge-rubrics.js';
import { AgentConfig } from '../../schemas/agent-config.js';
import { RubricDefinition, StoredRubric } from '../../schemas/rubric-definition.js';

describe('artifact kinds and configuration sections', () => {
  it('knows the six artifact kinds and nothing else', () => {
    for (const k of ['prompt', 'rubric', 'dataset', 'policy', 'optimizer', 'coaching'])
      assert.ok(isArtifactKind(k), k);
    assert.equal(isArtifactKind('config'), false);
    assert.equal(isArtifactKind('Policy'), false);
  });

  it('treats every configuration section but tools and the optimizer as a policy', () => {
    for (const s of ['sampling', 'redaction', 'retentionDays', 'evaluation', 'annotation', 'approval'])
      assert.ok(POLICY_SECTIONS.includes(s), s);
    assert.ok(!POLICY_SECTIONS.includes('tools'));
    assert.ok(!POLICY_SECTIONS.includes('optimizer'));
    assert.deepEqual(
      [...POLICY_SECTIONS, 'tools', 'optimizer'].sort(),
      Object.keys(AgentConfig.shape).sort(),
    );
  });

  it('compares values whatever the key order', () => {
    assert.equal(
      canonicalJson({ b: 1, a: { d: [2, { y: 1, x: 0 }], c: null } }),
      canonicalJson({ a: { c: null, d: [2, { x: 0, y: 1 }] }, b: 1 }),
    );
    assert.notEqual(canonicalJson({ a: [1, 2] }), canonicalJson({ a: [2, 1] }));
  });

  it('names the sections that changed between two configurations', () => {
    assert.deepEqual(
      changedSections(
        { sampling: { rate: 0.1 }, approval: { a: 1 }, x: 1 },
        { approval: { a: 1 }, sampling: { rate: 0.2 }, y: 2 },
      ),
      ['sampling', 'x', 'y'],
    );
    assert.deepEqual(changedSections({ a: { p: 1, q: 2 } }, { a: { q: 2, p: 1 } }), []);
  });

  it("keeps a section's own history: only the versions where its value changed", () => {
    const versions = [
      { version: 3, config: { sampling: 2, approval: 1 } },
      { version: 1, config: { sampling: 1, approval: 1 } },
      { version: 2, config: { sampling: 2, approval: 1 } },
      { version: 4, config: { sampling: 2, approval: 2 } },
      { version: 5, config: { sampling: 1, approval: 2 } },
    ];
    assert.deepEqual(
      sectionHistory(versions, 'sampling').map((v) => v.version),
      [1, 2, 5],
    );
    assert.deepEqual(
      sectionHistory(versions, 'approval').map((v) => v.version),
      [1, 4],
    );
    // A section absent throughout has one value since the first version.
    assert.deepEqual(
      sectionHistory(versions, 'gate').map((v) => v.version),
      [1],
    );
  });

  it('restores one section from an earlier configuration and leaves the others as they are now', () => {
    const now = { sampling: { rate: 0.5 }, approval: { approvers: ['b'] }, optimizer: { name: 'gepa' } };
    const earlier = { sampling: { rate: 0.1 }, approval: { approvers: ['a'] } };
    assert.deepEqual(withSectionFrom(now, earlier, 'sampling'), {
      sampling: { rate: 0.1 },
      approval: { approvers: ['b'] },
      optimizer: { name: 'gepa' },
    });
    // Absent in the earlier version means absent again (its default applies).
    assert.deepEqual(withSectionFrom(now, earlier, 'optimizer'), {
      sampling: { rate: 0.5 },
      approval: { approvers: ['b'] },
    });
    assert.deepEqual(now.sampling, { rate: 0.5 }, 'the current configuration is not modified');
  });

  it('describes how a section changed, key by key', () => {
    assert.equal(
      describeSectionChange({ rate: 0.05, maxSample: 500 }, { maxSample: 500, rate: 0.4, perUserCap: 3 }),
      'perUserCap: (default) → 3; rate: 0.05 → 0.4',
    );
    assert.equal(describeSectionChange(30, 7), '30 → 7');
    assert.equal(describeSectionChange({ a: 'x'.repeat(300) }, { a: 'y' }, 40).length, 40);
  });

  it('patches top-level sections, null removing one', () => {
    assert.deepEqual(patchSections({ a: 1, b: 2 }, { b: null, c: 3 }), { a: 1, c: 3 });
  });

  it('rolls back by default to the newest version below the current one', () => {
    assert.equal(versionBefore([1, 2, 3, 5], 5), 3);
    assert.equal(versionBefore([1, 2, 3, 5], 3), 2);
    assert.equal(versionBefore([4, 1], 1), null);
    assert.equal(versionBefore([], 1), null);
  });

  it('a stored (parsed) agent configuration parses to itself, so versions restore exactly', () => {
    const once = AgentConfig.parse({
      sampling: { rate: 0.3 },
      approval: { approvers: ['ann@example.com'] },
      optimizer: { name: 'protegi', settings: { rounds: 3 } },
    });
    const twice = AgentConfig.parse(JSON.parse(JSON.stringify(once)));
    assert.equal(canonicalJson(twice), canonicalJson(once));
  });
});

describe('rubric definitions', () => {
  const good = {
    scale: 'binary',
    title: 'Task completion',
    question: 'Did the agent do what the user asked?',
    criteria: ['fail when the wrong action ran'],
  };

  it('accepts a rubric as `rubric show` prints it (dimension and version included)', () => {
    for (const builtIn of JUDGE_RUBRICS) {
      const parsed = RubricDefinition.safeParse(JSON.parse(JSON.stringify(builtIn)));
      assert.ok(parsed.success, `${builtIn.dimension}: ${JSON.stringify(parsed.error?.issues)}`);
      assert.ok(StoredRubric.safeParse(builtIn).success);
    }
  });

  it('rejects a rubric with missing or contradictory fields, naming them', () => {
    const cases: [unknown, RegExp][] = [
      [{ ...good, criteria: [] }, /criteria/],
      [{ ...good, question: '  ' }, /question/],
      [{ ...good, scale: 'stars' }, /scale/],
      [{ ...good, passLevel: 4 }, /passLevel applies to likert5/],
      [{ ...good, scale: 'likert5', applicability: 'never' }, /applicability applies to binary/],
      [{ ...good, questoin: 'typo' }, /questoin/],
    ];
    for (const [input, message] of cases) {
      const parsed = RubricDefinition.safeParse(input);
      assert.equal(parsed.success, false, JSON.stringify(input));
      assert.match(JSON.stringify(parsed.error?.issues), message);
    }
  });
});

describe('artifact change notices', () => {
  it('says who rolled back what from which version to which, and why, escaping chat markup', () => {
    const message = artifactChangeMessage({
      auditId: '7',
      action: 'policy.rollback',
      agent: 'demo',
      artifact: 'policy sampling',
      from: 4,
      to: 2,
      actor: 'ann',
      reason: 'rate <too> high',
      at: '2026-11-22T10:00:00.000Z',
    });
    assert.equal(message.event, 'artifact_changed');
    assert.match(message.text, /^demo: policy sampling rolled back v4 → v2/);
    assert.match(message.text, /why: rate &lt;too&gt; high/);
    assert.equal(message.data.to, 2);
    const change = artifactChangeMessage({
      auditId: '8',
      action: 'rubric.set',
      agent: 'demo',
      artifact: 'rubric task_completion',
      from: 1,
      to: 2,
      actor: 'ann',
      reason: '',
      at: '2026-11-22T10:00:00.000Z',
    });
    assert.match(change.text, /rubric task_completion changed v1 → v2/);
    assert.doesNotMatch(change.text, /why:/);
  });
});
