import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { annotationTemplate, type TemplateItem } from '../../annotation/annotation-template.js';
import { DEFAULT_TAXONOMY_FILE, parseTaxonomy } from '../../diagnosis/failure-taxonomy.js';
import { GOLD_DIFF_KINDS } from '../../evaluation/gold-action-diff.js';
import { AnnotationBatch, AnnotationLabel } from '../../schemas/annotation.js';
import {
  CATEGORY_ALIASES,
  displayedCategory,
  FAILURE_CATEGORIES,
  FailureCategory,
  failureCategoryOf,
} from '../../schemas/failure-category.js';
import { BinaryJudgement } from '../../schemas/llm-outputs.js';

const root = new URL('../../', import.meta.url);

/** Every literal finding kind the built-in code evaluators emit, read from their source. */
function evaluatorFindingKinds(): string[] {
  const dir = new URL('evaluation/', root);
  const kinds = new Set<string>();
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.ts'))) {
    const text = readFileSync(new URL(file, dir), 'utf8');
    for (const m of text.matchAll(/kind: '([a-z_]+)'/g)) kinds.add(m[1]!);
    for (const m of text.matchAll(/category: [^\n]*?'([a-z_]+)'/g)) kinds.add(m[1]!);
  }
  return [...kinds].sort();
}

describe('failure categories: one list and one mapping', () => {
  it('maps every finding kind of the code evaluators to a category', () => {
    const kinds = evaluatorFindingKinds();
    assert.ok(kinds.length >= 10, `found ${kinds.join(', ')}`);
    for (const kind of [...kinds, ...GOLD_DIFF_KINDS])
      assert.ok(failureCategoryOf(kind), `finding kind ${kind} has no failure category`);
    assert.equal(failureCategoryOf('wrong_tool'), 'tool_selection');
    assert.equal(failureCategoryOf('wrong_arguments'), 'argument_error');
    assert.equal(failureCategoryOf('invalid_arguments'), 'argument_error');
  });

  it('maps every subtype of the shipped taxonomy to a category', () => {
    const taxonomy = parseTaxonomy(readFileSync(DEFAULT_TAXONOMY_FILE, 'utf8'), DEFAULT_TAXONOMY_FILE);
    assert.ok(taxonomy.subtypes.length > 20);
    for (const s of taxonomy.subtypes)
      assert.ok(failureCategoryOf(s.subtype), `taxonomy subtype ${s.category}/${s.subtype} has no category`);
    assert.equal(failureCategoryOf('missed_escalation'), 'escalation');
    assert.equal(failureCategoryOf('missing_confirmation'), 'missing_confirmation');
    assert.equal(failureCategoryOf('policy_violation'), 'policy_violation');
  });

  it('keeps the canonical names canonical and aliases off the list itself', () => {
    for (const c of FAILURE_CATEGORIES) assert.equal(failureCategoryOf(c), c);
    for (const [alias, category] of Object.entries(CATEGORY_ALIASES)) {
      assert.ok(!(FAILURE_CATEGORIES as readonly string[]).includes(alias), `${alias} is canonical already`);
      assert.ok(FailureCategory.safeParse(category).success);
    }
    assert.equal(failureCategoryOf('tool_selction'), undefined, 'a typo is not silently mapped');
    assert.equal(failureCategoryOf('constructor'), undefined, 'no prototype keys');
  });

  it('the judge answers with the same list reviewers label with', () => {
    const judged = BinaryJudgement.safeParse({
      verdict: 'fail',
      failure_category: 'wrong_tool',
      failing_step: 0,
      rationale: 'x',
    });
    assert.equal(judged.success, false, 'the judge must answer with a category, not a finer name');
    for (const c of FAILURE_CATEGORIES)
      assert.ok(
        BinaryJudgement.safeParse({ verdict: 'fail', failure_category: c, failing_step: 0, rationale: 'x' })
          .success,
      );
  });

  it('every bundled simulator scenario names its rules by a category of the list', () => {
    const dir = new URL('test/simulator/scenarios/', root);
    const files = readdirSync(dir).filter((f) => f.endsWith('.json'));
    assert.ok(files.length > 0);
    for (const file of files) {
      const scenario = JSON.parse(readFileSync(new URL(file, dir), 'utf8')) as {
        rules?: { id: string; category: string }[];
      };
      for (const rule of scenario.rules ?? [])
        assert.ok(
          FailureCategory.safeParse(rule.category).success,
          `${file}: rule ${rule.id} has category ${rule.category}, not one of ${FAILURE_CATEGORIES.join(', ')}`,
        );
    }
  });

  it('shows a reviewer a category for any name: mapped, other for an unknown one, none for none', () => {
    assert.equal(displayedCategory('wrong_tool'), 'tool_selection');
    assert.equal(displayedCategory('escalation'), 'escalation');
    assert.equal(displayedCategory('my_custom_check'), 'other');
    assert.equal(displayedCategory(null), undefined);
    assert.equal(displayedCategory(''), undefined);
  });
});

describe('annotation labels', () => {
  const base = { itemId: 'i1', verdict: 'fail' };

  it('accepts a finer category name and stores the category it maps to', () => {
    assert.equal(AnnotationLabel.parse({ ...base, category: 'wrong_tool' }).category, 'tool_selection');
    assert.equal(AnnotationLabel.parse({ ...base, category: ' escalation ' }).category, 'escalation');
    assert.equal(AnnotationLabel.parse({ ...base, category: null }).category, null);
  });

  it('refuses an unknown category and lists the ones it takes', () => {
    const r = AnnotationLabel.safeParse({ ...base, category: 'tool_selction' });
    assert.equal(r.success, false);
    assert.match(
      r.error?.issues[0]?.message ?? '',
      /category must be one of policy_violation, tool_selection, missing_confirmation, escalation, argument_error, other/,
    );
  });

  it('takes slice flags as a list or a comma-separated string, deduplicated in name order', () => {
    assert.deepEqual(AnnotationLabel.parse({ ...base, slices: ['b', 'adversarial', 'b'] }).slices, [
      'adversarial',
      'b',
    ]);
    assert.deepEqual(AnnotationLabel.parse({ ...base, slices: 'adversarial, long-context' }).slices, [
      'adversarial',
      'long-context',
    ]);
    assert.deepEqual(AnnotationLabel.parse({ ...base, slices: [] }).slices, []);
    const bad = AnnotationLabel.safeParse({ ...base, slices: ['two words'] });
    assert.equal(bad.success, false);
    assert.match(bad.error?.issues[0]?.message ?? '', /a slice is a name such as adversarial/);
  });

  it('treats a blank comment as none', () => {
    assert.equal(AnnotationLabel.parse({ ...base, comment: '' }).comment, undefined);
    assert.equal(AnnotationLabel.parse({ ...base, comment: '  ' }).comment, undefined);
    assert.equal(AnnotationLabel.parse({ ...base, comment: 'wrong tool' }).comment, 'wrong tool');
  });
});

describe('the queue template', () => {
  const item = (id: string, over: Partial<TemplateItem> = {}): TemplateItem => ({
    id,
    status: 'pending',
    judge_label: 'fail',
    judge_category: null,
    judge_explanation: 'the judge says',
    failing_step: 1,
    failing_finding: 'expected_step_match: wrong_tool — expected x',
    input: { messages: [{ role: 'user', content: 'hi' }] },
    output: { action: 'respond' },
    ...over,
  });
  const items = [
    item('a', { judge_category: 'wrong_tool' }),
    item('b', { judge_category: 'my_custom_check' }),
    item('c', { judge_label: 'pass' }),
    item('d', { judge_category: 'policy_violation', status: 'in_progress' }),
    item('e', { judge_category: 'wrong_tool', status: 'complete' }),
  ];

  it('holds the open items, prefilled with verdicts and categories of the one list', () => {
    const t = annotationTemplate('q1', 'rita', items);
    assert.equal(t.queue, 'q1');
    assert.equal(t.reviewer, 'rita');
    assert.deepEqual(
      t.labels.map((l) => [l.itemId, l.verdict, 'category' in l ? l.category : null]),
      [
        ['a', 'fail', 'tool_selection'],
        ['b', 'fail', 'other'],
        ['c', 'pass', null],
        ['d', 'fail', 'policy_violation'],
      ],
    );
    assert.match(t.labels[0]!.context.finding ?? '', /wrong_tool/, 'the finer finding stays readable');
    assert.deepEqual(t.allowed.category, [...FAILURE_CATEGORIES]);
    assert.match(t.allowed.expected, /"action": "respond"/, 'says how to write an expected step');
  });

  it('round-trips: the file as written is a valid submission, every label accepted', () => {
    const file = JSON.parse(JSON.stringify(annotationTemplate('q1', 'rita', items))) as unknown;
    const batch = AnnotationBatch.parse(file);
    assert.equal(batch.labels.length, 4);
    for (const raw of batch.labels) {
      const label = AnnotationLabel.safeParse(raw);
      assert.ok(label.success, label.success ? '' : label.error.message);
      assert.equal(label.data.comment, undefined);
      assert.deepEqual(label.data.slices, []);
      assert.ok(!('context' in label.data), 'context is for reading only');
    }
  });
});
