/**
 * Line diffs of prompt versions in unified format (as `diff -u` and `git diff` print them),
 * computed with Myers' O((N+M)·D) shortest-edit-script algorithm. Pure.
 */

export interface DiffOp {
  kind: 'equal' | 'delete' | 'insert';
  /** The line with its terminating newline, if it has one (the last line may not). */
  line: string;
}

export interface UnifiedDiff {
  /** Empty when the texts are equal. */
  text: string;
  added: number;
  removed: number;
}

/** Above this many edits the exact search gets expensive; the diff becomes one replacement. */
const MAX_EDITS = 2000;

/** Lines keep their "\n", so "a" and "a\n" differ, as they do for `diff`. */
export function splitLines(text: string): string[] {
  return text === '' ? [] : text.split(/(?<=\n)/);
}

function myers(a: readonly string[], b: readonly string[]): DiffOp[] | null {
  const n = a.length;
  const m = b.length;
  const max = Math.min(n + m, MAX_EDITS);
  const offset = max + 1;
  const v = new Int32Array(2 * max + 3);
  // trace[d] holds the furthest x per diagonal k ∈ [-d, d] after d edits.
  const trace: Int32Array[] = [];
  for (let d = 0; d <= max; d++) {
    for (let k = -d; k <= d; k += 2) {
      let x =
        k === -d || (k !== d && v[offset + k - 1]! < v[offset + k + 1]!)
          ? v[offset + k + 1]!
          : v[offset + k - 1]! + 1;
      let y = x - k;
      while (x < n && y < m && a[x] === b[y]) {
        x++;
        y++;
      }
      v[offset + k] = x;
    }
    trace.push(v.slice(offset - d, offset + d + 1));
    if (Math.abs(n - m) <= d && v[offset + n - m]! >= n) return backtrack(a, b, trace);
  }
  return null;
}

function backtrack(a: readonly string[], b: readonly string[], trace: Int32Array[]): DiffOp[] {
  const ops: DiffOp[] = [];
  let x = a.length;
  let y = b.length;
  const at = (d: number, k: number) => (d < 0 ? 0 : trace[d]![k + d]!);
  for (let d = trace.length - 1; d >= 0; d--) {
    const k = x - y;
    if (d === 0) {
      while (x > 0) ops.push({ kind: 'equal', line: a[--x]! });
      break;
    }
    const down = k === -d || (k !== d && at(d - 1, k - 1) < at(d - 1, k + 1));
    const prevK = down ? k + 1 : k - 1;
    const prevX = at(d - 1, prevK);
    const prevY = prevX - prevK;
    while (x > prevX && y > prevY) {
      ops.push({ kind: 'equal', line: a[x - 1]! });
      x--;
      y--;
    }
    if (down) ops.push({ kind: 'insert', line: b[--y]! });
    else ops.push({ kind: 'delete', line: a[--x]! });
  }
  return ops.reverse();
}

/** The edit script turning `from` into `to`, line by line. */
export function diffLines(from: string, to: string): DiffOp[] {
  const a = splitLines(from);
  const b = splitLines(to);
  // Common prefix and suffix cost nothing to find and keep the search small.
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start++;
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) {
    endA--;
    endB--;
  }
  const middleA = a.slice(start, endA);
  const middleB = b.slice(start, endB);
  const middle = myers(middleA, middleB) ?? [
    ...middleA.map((line) => ({ kind: 'delete' as const, line })),
    ...middleB.map((line) => ({ kind: 'insert' as const, line })),
  ];
  return [
    ...a.slice(0, start).map((line) => ({ kind: 'equal' as const, line })),
    ...middle,
    ...a.slice(endA).map((line) => ({ kind: 'equal' as const, line })),
  ];
}

const range = (start: number, length: number) =>
  length === 1 ? `${start}` : `${length === 0 ? start - 1 : start},${length}`;

const PREFIX = { equal: ' ', delete: '-', insert: '+' } as const;

/** A unified diff with `context` lines around each change, hunks merged when they touch. */
export function unifiedDiff(
  from: string,
  to: string,
  options: { fromLabel?: string; toLabel?: string; context?: number } = {},
): UnifiedDiff {
  const context = options.context ?? 3;
  const ops = diffLines(from, to);
  const changes = ops.flatMap((op, i) => (op.kind === 'equal' ? [] : [i]));
  if (changes.length === 0) return { text: '', added: 0, removed: 0 };
  // Hunks: runs of changes closer than 2·context lines share one hunk.
  const hunks: [number, number][] = [];
  for (const i of changes) {
    const lastHunk = hunks[hunks.length - 1];
    if (lastHunk && i - lastHunk[1] <= 2 * context + 1) lastHunk[1] = i;
    else hunks.push([i, i]);
  }
  // Line numbers of a and b before each op.
  const lineA: number[] = [];
  const lineB: number[] = [];
  let la = 0;
  let lb = 0;
  for (const op of ops) {
    lineA.push(la);
    lineB.push(lb);
    if (op.kind !== 'insert') la++;
    if (op.kind !== 'delete') lb++;
  }
  const out = [`--- ${options.fromLabel ?? 'a'}\n`, `+++ ${options.toLabel ?? 'b'}\n`];
  for (const [first, last] of hunks) {
    const lo = Math.max(0, first - context);
    const hi = Math.min(ops.length - 1, last + context);
    const slice = ops.slice(lo, hi + 1);
    const lenA = slice.filter((op) => op.kind !== 'insert').length;
    const lenB = slice.filter((op) => op.kind !== 'delete').length;
    out.push(`@@ -${range(lineA[lo]! + 1, lenA)} +${range(lineB[lo]! + 1, lenB)} @@\n`);
    for (const op of slice) {
      const newline = op.line.endsWith('\n');
      out.push(`${PREFIX[op.kind]}${newline ? op.line : `${op.line}\n\\ No newline at end of file\n`}`);
    }
  }
  return {
    text: out.join(''),
    added: ops.filter((op) => op.kind === 'insert').length,
    removed: ops.filter((op) => op.kind === 'delete').length,
  };
}
