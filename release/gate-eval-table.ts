import type { GateEvalResult } from '../schemas/gate-eval.js';
import type { GateAssertionResult } from '../schemas/gate-report.js';
import { verdictHeadline } from './gate-ci-verdict.js';

/*
 * `flywheel eval`'s terminal output: the verdict with the failing axis first, what was
 * compared, then every assertion and every slice × dimension row, aligned in columns.
 */

const num = (x: number | null | undefined) => (x === null || x === undefined ? '—' : x.toFixed(3));
const signed = (x: number | null | undefined) =>
  x === null || x === undefined ? '—' : `${x >= 0 ? '+' : '-'}${Math.abs(x).toFixed(3)}`;
const ci = (c: readonly [number, number] | null | undefined) =>
  c ? `[${signed(c[0])}, ${signed(c[1])}]` : '—';

/** Columns padded to their widest cell; the last column is left ragged. */
function columns(rows: readonly (readonly string[])[]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) =>
    r
      .map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd(),
  );
}

function mark(a: GateAssertionResult, waived: ReadonlySet<string>): string {
  if (a.passed) return 'pass';
  if (a.gating === false) return 'not gating';
  if (waived.has(a.name)) return 'waived';
  return a.inconclusive ? 'INCONCLUSIVE' : 'FAIL';
}

/** The coaching replayed with the examples, when there is any. */
export function coachingNote({ coaching }: GateEvalResult): string {
  if (coaching.candidates === null)
    return coaching.active === 0 ? '' : ` (both with the ${coaching.active} active coaching)`;
  return ` with ${coaching.candidates} candidate coaching (both with the ${coaching.active} active)`;
}

export function renderGateEvalTable(result: GateEvalResult): string {
  const { report } = result;
  const waived = new Set(result.waived.map((x) => x.assertion));
  const lines = [
    `flywheel eval ${result.agent}: ${verdictHeadline(result)}`,
    `  candidate ${result.candidate.source} ${result.candidate.ref}${coachingNote(result)} vs production ${result.production.id}`,
    `  dataset ${result.dataset.id}: ${result.dataset.eval} eval, ${result.dataset.holdout} holdout examples; gate: ${result.gateConfig}${result.failOn ? `; fails on ${result.failOn.join(', ')}` : ''}`,
    `  run by ${result.evaluatedBy} in ${result.seconds.toFixed(1)} s`,
  ];
  const axes = (title: string, list: GateEvalResult['axes']) => {
    if (list.length === 0) return;
    lines.push(
      '',
      title,
      ...columns(
        list.map((x) => [
          ` ${x.outcome === 'fail' ? 'FAIL' : 'INCONCLUSIVE'}`,
          x.dimension ?? x.assertion,
          x.dimension === null ? '' : `slice ${x.slice ?? 'all'}`,
          x.detail,
        ]),
      ),
    );
  };
  axes('Decided by (dimension, slice):', result.axes);
  axes('Not failing the build (outside --fail-on):', result.waived);
  lines.push(
    '',
    ...columns([
      ['result', 'dimension', 'slice', 'assertion', 'value', 'threshold', 'Δ vs prod', 'CI'],
      ...report.assertions.map((a) => [
        mark(a, waived),
        a.dimension ?? '—',
        a.slice ?? (a.dimension ? 'all' : '—'),
        a.name,
        num(a.value),
        num(a.threshold),
        signed(a.delta),
        ci(a.ci),
      ]),
    ]),
  );
  if (report.slices?.length)
    lines.push(
      '',
      ...columns([
        ['slice', 'dimension', 'examples', 'candidate', 'production', 'Δ', 'CI', ''],
        ...report.slices.map((s) => [
          s.slice,
          s.dimension,
          String(s.examples),
          num(s.candidate),
          num(s.baseline),
          signed(s.delta),
          ci(s.ci),
          s.regressed ? 'REGRESSED' : s.gated ? 'gated' : 'too small to gate',
        ]),
      ]),
    );
  // Each candidate memory on the eval examples that recalled it; one left out is decided without.
  const members = report.coaching?.members ?? [];
  if (members.length)
    lines.push(
      '',
      ...columns([
        ['coaching', 'recalled', 'better', 'worse', '', 'detail'],
        ...members.map((m) => [
          `${m.id} v${m.version}`,
          String(m.recalled),
          String(m.better),
          String(m.worse),
          m.kept ? 'kept' : 'LEFT OUT',
          m.detail,
        ]),
      ]),
    );
  return lines.join('\n');
}
