import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { diffLines, splitLines, unifiedDiff } from '../../registry/text-diff.js';

/** Applies a unified diff to `from`, as `patch` would; throws when a context line does not match. */
function applyPatch(from: string, diff: string): string {
  const source = splitLines(from);
  const lines = diff.split('\n');
  const out: string[] = [];
  let at = 0;
  let i = 2;
  while (i < lines.length && lines[i] !== '') {
    const header = /^@@ -(\d+)(?:,(\d+))? \+\d+(?:,\d+)? @@$/.exec(lines[i]!);
    assert.ok(header, `hunk header expected, got ${lines[i]}`);
    const start = Number(header[1]);
    const length = header[2] === undefined ? 1 : Number(header[2]);
    const first = length === 0 ? start : start - 1;
    while (at < first) out.push(source[at++]!);
    i++;
    while (i < lines.length && lines[i] !== '' && !lines[i]!.startsWith('@@')) {
      const kind = lines[i]![0];
      let text = `${lines[i]!.slice(1)}\n`;
      if (lines[i + 1] === '\\ No newline at end of file') {
        text = text.slice(0, -1);
        i++;
      }
      if (kind === ' ' || kind === '-') {
        assert.equal(source[at], text, 'context or removed line matches the source');
        at++;
      }
      if (kind === ' ' || kind === '+') out.push(text);
      i++;
    }
  }
  while (at < source.length) out.push(source[at++]!);
  return out.join('');
}

/** Fewest inserted plus deleted lines, by dynamic programming over the LCS. */
function minimalEdits(a: string[], b: string[]): number {
  const dp = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++)
      dp[i]![j] = a[i - 1] === b[j - 1] ? dp[i - 1]![j - 1]! + 1 : Math.max(dp[i - 1]![j]!, dp[i]![j - 1]!);
  return a.length + b.length - 2 * dp[a.length]![b.length]!;
}

function prng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function randomText(random: () => number, lines: number): string {
  const words = [
    'Be polite.',
    'Cancel only with consent.',
    'Ask for the id.',
    'Escalate refunds.',
    'Be brief.',
  ];
  const text = Array.from({ length: lines }, () => words[Math.floor(random() * words.length)]).join('\n');
  return random() < 0.5 ? `${text}\n` : text;
}

describe('unified line diff', () => {
  it('prints nothing for equal texts', () => {
    assert.deepEqual(unifiedDiff('a\nb\n', 'a\nb\n'), { text: '', added: 0, removed: 0 });
  });

  it('prints hunks with three lines of context, split when changes are far apart, as diff -u does', () => {
    const from = 'one\ntwo\nthree\nfour\nfive\nsix\nseven\neight\nnine\nten\n';
    const to = 'one\n2\nthree\nfour\nfive\nsix\nseven\neight\nnine\nten\neleven';
    const diff = unifiedDiff(from, to, { fromLabel: 'demo@v1', toLabel: 'demo@v2' });
    assert.equal(
      diff.text,
      [
        '--- demo@v1',
        '+++ demo@v2',
        '@@ -1,5 +1,5 @@',
        ' one',
        '-two',
        '+2',
        ' three',
        ' four',
        ' five',
        '@@ -8,3 +8,4 @@',
        ' eight',
        ' nine',
        ' ten',
        '+eleven',
        '\\ No newline at end of file',
        '',
      ].join('\n'),
    );
    assert.equal(diff.added, 2);
    assert.equal(diff.removed, 1);
  });

  it('numbers an insertion into an empty text from line 0', () => {
    assert.equal(unifiedDiff('', 'a\nb\n').text, '--- a\n+++ b\n@@ -0,0 +1,2 @@\n+a\n+b\n');
    assert.equal(unifiedDiff('a\n', '').text, '--- a\n+++ b\n@@ -1 +0,0 @@\n-a\n');
  });

  it('tells a missing final newline apart from a present one', () => {
    const diff = unifiedDiff('Be brief.\n', 'Be brief.');
    assert.equal(diff.removed, 1);
    assert.equal(diff.added, 1);
    assert.match(diff.text, /\\ No newline at end of file\n$/);
  });

  it('on random texts: the patch turns the old text into the new one, with the fewest edits', () => {
    const random = prng(7);
    for (let round = 0; round < 300; round++) {
      const from = randomText(random, Math.floor(random() * 25));
      const to = randomText(random, Math.floor(random() * 25));
      const diff = unifiedDiff(from, to, { context: Math.floor(random() * 4) });
      assert.equal(applyPatch(from, diff.text), to, `round ${round}`);
      const ops = diffLines(from, to);
      assert.equal(
        diff.added + diff.removed,
        minimalEdits(splitLines(from), splitLines(to)),
        `round ${round}`,
      );
      assert.equal(ops.filter((o) => o.kind !== 'insert').length, splitLines(from).length);
    }
  });

  it('still produces a correct patch when the texts share nothing over thousands of lines', () => {
    const from = Array.from({ length: 3000 }, (_, i) => `old ${i}\n`).join('');
    const to = Array.from({ length: 3000 }, (_, i) => `new ${i}\n`).join('');
    const diff = unifiedDiff(from, to);
    assert.equal(diff.removed, 3000);
    assert.equal(diff.added, 3000);
    assert.equal(applyPatch(from, diff.text), to);
  });
});
