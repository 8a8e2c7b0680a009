import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decontaminate, exampleText, type OptimizerUse } from '../../datasets/dataset-decontamination.js';
import { parseDatasetJsonl } from '../../datasets/dataset-jsonl.js';
import { assignSplit, assignSplits, splitTargets, type Split } from '../../datasets/dataset-split.js';
import { deriveSlices } from '../../datasets/example-slices.js';
import {
  LineageGraphBuilder,
  lineageTree,
  reaches,
  renderLineageTree,
} from '../../registry/lineage-graph.js';
import { DatasetPolicy } from '../../schemas/dataset-policy.js';

const fractions = { evalFraction: 0.3, holdoutFraction: 0.15 };
const items = (clusters: number, size: (c: number) => number) =>
  Array.from({ length: clusters }, (_, c) =>
    Array.from({ length: size(c) }, (_, i) => ({ key: `t-${c}-${i}`, group: `fc${c}` })),
  ).flat();
const count = (m: Map<string, Split>, keys: string[]) => {
  const out: Record<Split, number> = { train: 0, eval: 0, holdout: 0 };
  for (const k of keys) out[m.get(k)!] += 1;
  return out;
};
const noUse: OptimizerUse = { byKey: new Map(), byContent: new Map(), runs: 0 };

describe('dataset splits', () => {
  it('assigns the same splits for the same keys and seed, whatever the input order', () => {
    const list = items(6, (c) => 3 + c * 4);
    const a = assignSplits(list, { ...fractions, seed: 9 });
    const b = assignSplits([...list].reverse(), { ...fractions, seed: 9 });
    assert.deepEqual([...a].sort(), [...b].sort());
    const c = assignSplits(list, { ...fractions, seed: 10 });
    assert.notDeepEqual([...a].sort(), [...c].sort(), 'another seed gives another assignment');
  });

  it('represents every cluster of three or more in train, eval and holdout in the configured proportions', () => {
    const list = items(12, (c) => 3 + ((c * 7) % 30));
    const splits = assignSplits(list, { ...fractions, seed: 1 });
    for (let c = 0; c < 12; c++) {
      const keys = list.filter((i) => i.group === `fc${c}`).map((i) => i.key);
      const got = count(splits, keys);
      assert.deepEqual(got, splitTargets(keys.length, fractions), `cluster fc${c} of ${keys.length}`);
      assert.ok(got.train > 0 && got.eval > 0 && got.holdout > 0, `fc${c}: ${JSON.stringify(got)}`);
    }
    assert.deepEqual(splitTargets(20, fractions), { train: 11, eval: 6, holdout: 3 });
    assert.deepEqual(splitTargets(2, fractions), { train: 1, eval: 1, holdout: 0 });
  });

  it('keeps proportions over many singleton clusters by each key’s own hash', () => {
    const list = items(4000, () => 1);
    const got = count(
      assignSplits(list, { ...fractions, seed: 2 }),
      list.map((i) => i.key),
    );
    assert.ok(Math.abs(got.eval / 4000 - 0.3) < 0.03, JSON.stringify(got));
    assert.ok(Math.abs(got.holdout / 4000 - 0.15) < 0.03, JSON.stringify(got));
  });

  it('keeps a key’s earlier split in later versions and fills the cluster’s gaps with new members', () => {
    const first = items(1, () => 6);
    const v1 = assignSplits(first, { ...fractions, seed: 4 });
    const grown = [...first, ...Array.from({ length: 14 }, (_, i) => ({ key: `new-${i}`, group: 'fc0' }))];
    const v2 = assignSplits(grown, { ...fractions, seed: 4, sticky: v1 });
    for (const { key } of first) assert.equal(v2.get(key), v1.get(key), `${key} kept its split`);
    assert.deepEqual(
      count(
        v2,
        grown.map((i) => i.key),
      ),
      splitTargets(20, fractions),
    );
    // A sticky assignment wins even against the hash (an earlier version's decision).
    const forced = assignSplits([{ key: 'x', group: null }], {
      ...fractions,
      seed: 4,
      sticky: new Map([['x', 'train']]),
    });
    assert.equal(forced.get('x'), 'train');
  });

  it('keeps assignSplit compatible: eval only, about the requested share', () => {
    let evals = 0;
    for (let i = 0; i < 3000; i++) if (assignSplit(`t${i}`, 3) === 'eval') evals++;
    assert.ok(Math.abs(evals / 3000 - 0.4) < 0.03);
  });

  it('rejects a policy that leaves train empty', () => {
    assert.equal(DatasetPolicy.safeParse({ evalFraction: 0.6, holdoutFraction: 0.4 }).success, false);
    assert.deepEqual(DatasetPolicy.parse({}), {
      evalFraction: 0.3,
      holdoutFraction: 0.15,
      nearDuplicateThreshold: 0.75,
    });
  });
});

describe('decontamination', () => {
  const ex = (key: string, split: Split, text: string, contentHash = `h-${key}`) => ({
    key,
    split,
    text,
    contentHash,
  });

  it('moves an eval or holdout example an earlier optimization run trained on to train, and says which run', () => {
    const used: OptimizerUse = {
      byKey: new Map([['t2', ['run-a']]]),
      byContent: new Map([['same-content', ['run-b']]]),
      runs: 2,
    };
    const { splits, report } = decontaminate(
      [
        ex('t1', 'train', 'cancel reservation ABC123'),
        ex('t2', 'eval', 'what is the status of flight UA 100'),
        ex('t3', 'holdout', 'add two bags to reservation QQ77', 'same-content'),
        ex('t4', 'eval', 'book a flight from JFK to SFO for user ann_1'),
      ],
      used,
      { threshold: 0.75 },
    );
    assert.equal(splits.get('t2'), 'train');
    assert.equal(splits.get('t3'), 'train');
    assert.equal(splits.get('t4'), 'eval', 'an unused example stays in its gating split');
    assert.deepEqual(
      report.movedFromGating.map((m) => [m.key, m.from, m.reason, m.detail]),
      [
        ['t2', 'eval', 'used_by_optimizer', 'run-a'],
        ['t3', 'holdout', 'used_by_optimizer', 'run-b'],
      ],
    );
    assert.equal(report.runsChecked, 2);
  });

  it('flags near-duplicates across splits with their similarity and takes the gating member out of gating', () => {
    const { splits, report } = decontaminate(
      [
        ex('a', 'train', 'I want to cancel my reservation ZFA04Y'),
        ex('b', 'eval', 'Hi, please cancel my reservation ZFA04Y, I want to cancel it'),
        ex('c', 'holdout', 'What is the status of flight DL 45 today?'),
        ex('d', 'eval', 'what is the status of flight DL 45 today'),
        ex('e', 'eval', 'Add one checked bag to reservation M8N7B6'),
      ],
      noUse,
      { threshold: 0.75 },
    );
    assert.equal(splits.get('b'), 'train', 'the eval twin of a train example moves to train');
    assert.equal(splits.get('c'), 'eval', 'a holdout twin of an eval example joins eval');
    assert.equal(splits.get('d'), 'eval');
    assert.equal(splits.get('e'), 'eval');
    const pairs = report.nearDuplicates.map((p) => [p.a, p.b, p.moved]);
    assert.deepEqual(pairs.sort(), [
      ['a', 'b', 'b'],
      ['c', 'd', 'c'],
    ]);
    assert.ok(report.nearDuplicates.every((p) => p.similarity >= 0.75));
    assert.deepEqual(
      report.movedFromGating.map((m) => [m.key, m.reason, m.detail]),
      [['b', 'near_duplicate', 'a']],
    );
  });

  it('judges near-duplicates on the conversation, not the system prompt', () => {
    const text = exampleText({
      messages: [
        { role: 'system', content: 'You are an airline agent.' },
        { role: 'user', content: 'Cancel ABC' },
      ],
    });
    assert.equal(text, 'Cancel ABC');
  });
});

describe('slices and JSONL import', () => {
  it('derives slices from trace attributes, the cluster category, reviewer flags and the import', () => {
    assert.deepEqual(
      deriveSlices({
        attributes: { 'flywheel.slices': ['adversarial', ' baggage '], tags: 'vip, adversarial' },
        clusterCategory: 'policy',
        reviewerFlags: ['needs-policy-review'],
        extra: ['imported'],
      }),
      ['adversarial', 'baggage', 'category:policy', 'imported', 'needs-policy-review', 'vip'],
    );
    assert.deepEqual(deriveSlices({ clusterCategory: 'undiagnosed' }), []);
  });

  it('keeps the valid lines of a file and reports each malformed one with its number and reason', () => {
    const lines = [
      JSON.stringify({
        key: 'k1',
        input: 'cancel ABC',
        expected: { action: 'cancel_reservation' },
        split: 'eval',
      }),
      '{not json',
      JSON.stringify({ input: 'hello', expected: { action: 'respond' }, split: 'validation' }),
      '',
      JSON.stringify({ input: 'where is my bag' }),
      JSON.stringify({
        input: { messages: [{ role: 'user', content: 'status of UA1' }] },
        expected: { action: 'get_flight_status', arguments: { flight_number: 'UA1' } },
        tags: ['status'],
        lineage: { traceId: 'trace-9', clusterStableId: 'demo-fc001' },
      }),
      JSON.stringify({ key: 'k1', input: 'again', expected: { action: 'respond' } }),
      JSON.stringify({ input: { messages: [] }, expected: { action: 'respond' } }),
      '[1,2]',
    ];
    const { examples, errors } = parseDatasetJsonl(lines.join('\n'));
    assert.deepEqual(
      examples.map((e) => [e.line, e.key, e.split]),
      [
        [1, 'k1', 'eval'],
        [6, 'trace-9', null],
      ],
    );
    assert.deepEqual(examples[0]!.input, { messages: [{ role: 'user', content: 'cancel ABC' }] });
    assert.deepEqual(examples[1]!.slices, ['status']);
    assert.equal(examples[1]!.lineage.clusterStableId, 'demo-fc001');
    assert.deepEqual(
      errors.map((e) => e.line),
      [2, 3, 5, 7, 8, 9],
    );
    const reason = (line: number) => errors.find((e) => e.line === line)!.error;
    assert.match(reason(2), /not valid JSON/);
    assert.match(reason(3), /split must be one of train, eval, holdout \(got "validation"\)/);
    assert.match(reason(5), /missing expected action/);
    assert.match(reason(7), /duplicate example key k1 \(first on line 1\)/);
    assert.match(reason(8), /input/);
    assert.match(reason(9), /one JSON object/);
  });

  it('gives an example without a key a stable content key', () => {
    const line = JSON.stringify({ input: 'hi', expected: { action: 'respond' } });
    const a = parseDatasetJsonl(line).examples[0]!.key;
    assert.equal(parseDatasetJsonl(`\n${line}`).examples[0]!.key, a);
    assert.match(a, /^import:/);
  });
});

describe('lineage graph', () => {
  it('renders both directions as indented trees and finds paths from cause to effect', () => {
    const root = { kind: 'candidate' as const, ref: 'c1' };
    const g = new LineageGraphBuilder(root);
    g.link(root, { kind: 'optimization_run', ref: 'r1', relation: 'proposed by' }, 'upstream');
    g.link(
      { kind: 'optimization_run', ref: 'r1' },
      { kind: 'dataset_example', ref: 'e1', relation: 'train example' },
      'upstream',
    );
    g.link(
      { kind: 'dataset_example', ref: 'e1' },
      { kind: 'trace', ref: 't1', relation: 'from trace' },
      'upstream',
    );
    g.link(root, { kind: 'gate_report', ref: 'g1', relation: 'gated by' }, 'downstream');
    g.truncate({ kind: 'optimization_run', ref: 'r1' }, 'upstream', 3);
    const graph = g.build(new Map([['gate_report:g1', 'passed']]));
    assert.ok(reaches(graph, 'trace:t1', 'gate_report:g1'));
    assert.ok(!reaches(graph, 'gate_report:g1', 'trace:t1'));
    assert.equal(
      renderLineageTree(lineageTree(graph, 'upstream')),
      [
        'candidate c1',
        '  proposed by: optimization_run r1',
        '    train example: dataset_example e1',
        '      from trace: trace t1',
        '    … 3 more',
      ].join('\n'),
    );
    assert.equal(
      renderLineageTree(lineageTree(graph, 'downstream')),
      ['candidate c1', '  gated by: gate_report g1  passed'].join('\n'),
    );
  });
});
