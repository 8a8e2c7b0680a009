import type { GateAssertionResult, GateReport } from '../schemas/gate-report.js';

const f3 = (x: number | null | undefined) => (x === null || x === undefined ? '—' : x.toFixed(3));
const signed = (x: number | null | undefined) =>
  x === null || x === undefined ? '—' : `${x >= 0 ? '+' : '−'}${Math.abs(x).toFixed(3)}`;
const interval = (ci: readonly [number, number] | null | undefined) =>
  ci ? `[${signed(ci[0])}, ${signed(ci[1])}]` : '—';
const pct = (x: number | null | undefined) =>
  x === null || x === undefined ? '—' : `${(x * 100).toFixed(1)}%`;
const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
const verdictMark = (a: GateAssertionResult) =>
  a.passed ? 'PASS' : a.inconclusive ? 'INCONCLUSIVE' : 'FAIL';
/** Assertions left out of the verdict say so, with what they would have been. */
const mark = (a: GateAssertionResult) =>
  a.gating === false ? (a.kind === 'calibration' ? 'NOT GATING' : `(${verdictMark(a)})`) : verdictMark(a);

/**
 * A stored gate report as Markdown for `flywheel cycle show`: the verdict and the failing
 * assertion first, then every assertion with its numbers, the composite, the slices, the
 * holdout and pass^k. Reports stored before configurable gates render their assertions only.
 */
export function renderGateReportMarkdown(report: GateReport): string {
  const headline =
    report.verdict === 'pass'
      ? 'passed'
      : `${report.verdict === 'fail' ? 'FAILED' : 'INCONCLUSIVE'} on \`${report.failingAssertion}\``;
  const lines = [
    `### Regression gate — ${headline}`,
    '',
    `${report.evalExamples} eval examples${report.bootstrap ? ` · paired bootstrap, ${report.bootstrap.resamples} resamples, ${Math.round(report.bootstrap.confidence * 100)}% intervals, seed ${report.bootstrap.seed}` : ''}`,
    ...(report.minimumDetectableEffect
      ? [
          '',
          `Minimum detectable effect (80 % power) at this sample size: ${Object.entries(
            report.minimumDetectableEffect,
          )
            .map(([d, m]) => `${d} ${f3(m)}`)
            .join(', ')}`,
        ]
      : []),
    '',
    '| result | assertion | value | threshold | Δ vs production | CI | detail |',
    '|---|---|---:|---:|---:|---|---|',
    ...report.assertions.map(
      (a) =>
        `| ${mark(a)} | \`${cell(a.name)}\` | ${f3(a.value)} | ${f3(a.threshold)} | ${signed(a.delta)} | ${interval(a.ci)} | ${cell(a.detail)} |`,
    ),
  ];
  const c = report.composite;
  if (c) {
    const weights = Object.entries(c.weights)
      .map(([d, w]) => `${d} ${w}`)
      .join(', ');
    lines.push(
      '',
      `**Composite:** ${f3(c.candidate)} vs production ${f3(c.baseline)}, Δ ${signed(c.delta)} ${interval(c.ci)} (weights: ${weights || 'none'})`,
    );
  }
  if (report.slices?.length) {
    lines.push(
      '',
      '**Slices** (eval split; only slices with enough examples gate)',
      '',
      '| slice | dimension | examples | candidate | production | Δ | CI | MDE | |',
      '|---|---|---:|---:|---:|---:|---|---:|---|',
      ...report.slices.map(
        (s) =>
          `| ${cell(s.slice)} | ${s.dimension} | ${s.examples} | ${f3(s.candidate)} | ${f3(s.baseline)} | ${signed(s.delta)} | ${interval(s.ci)} | ${f3(s.minimumDetectableEffect ?? null)} | ${s.regressed ? 'REGRESSED' : s.gated ? 'gated' : 'too small to gate'} |`,
      ),
    );
  }
  const h = report.holdout;
  if (h)
    lines.push(
      '',
      h.examples === 0
        ? '**Holdout:** no holdout examples'
        : `**Holdout:** ${h.examples} examples, Δ ${signed(h.delta)} ${interval(h.ci)} (may drop at most ${f3(h.maxDrop)}); ${Object.keys(
            h.candidate,
          )
            .map((d) => `${d} ${f3(h.candidate[d])} vs ${f3(h.baseline[d])}`)
            .join(', ')}`,
    );
  if (report.passK?.length) {
    lines.push(
      '',
      '| repeated dimension | k | candidate pass^k | production pass^k | candidate pass@1 | production pass@1 |',
      '|---|---:|---:|---:|---:|---:|',
      ...report.passK.map(
        (p) =>
          `| ${p.dimension} | ${p.k} | ${pct(p.candidate.passK)} | ${pct(p.baseline.passK)} | ${pct(p.candidate.passAt1)} | ${pct(p.baseline.passAt1)} |`,
      ),
    );
  }
  const coaching = report.coaching;
  if (coaching) {
    const set = coaching.set.map((m) => `\`${m.id}\` v${m.version}`).join(', ');
    lines.push(
      '',
      `**Coaching:** ${coaching.active} active memor${coaching.active === 1 ? 'y' : 'ies'} in both arms; candidate set (released with the candidate when it passes): ${set || 'none'}`,
    );
    if (coaching.members?.length)
      lines.push(
        '',
        '| coaching | version | recalled | better | worse | | detail |',
        '|---|---:|---:|---:|---:|---|---|',
        ...coaching.members.map(
          (m) =>
            `| \`${cell(m.id)}\` | ${m.version} | ${m.recalled} | ${m.better} | ${m.worse} | ${m.kept ? 'kept' : m.retire ? 'LEFT OUT, retired' : 'LEFT OUT'} | ${cell(m.detail)} |`,
        ),
      );
  }
  return lines.join('\n');
}
