import type { GateEvalResult } from '../schemas/gate-eval.js';
import { verdictHeadline } from './gate-ci-verdict.js';
import { coachingNote } from './gate-eval-table.js';
import { renderGateReportMarkdown } from './gate-report-markdown.js';

const code = (text: string) => `\`${text.replace(/`/g, "'")}\``;
const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/**
 * `flywheel eval --markdown`: a pull-request comment. The verdict and the axes that decided
 * it come first (dimension and slice), then the gate's full report as `cycle show` prints it.
 */
export function renderGateEvalMarkdown(result: GateEvalResult): string {
  const icon = result.verdict === 'pass' ? '✅' : result.verdict === 'fail' ? '❌' : '⚠️';
  const lines = [
    `## ${icon} Flywheel eval — ${result.agent}: ${verdictHeadline(result)}`,
    '',
    `Candidate ${result.candidate.source} ${code(result.candidate.ref)}${coachingNote(result)} vs production ${code(result.production.id)} on dataset ${code(result.dataset.id)} (${result.dataset.eval} eval, ${result.dataset.holdout} holdout examples). Gate: ${result.gateConfig}${result.failOn ? `; fails the build on ${result.failOn.map(code).join(', ')}` : ''}. Run by ${code(result.evaluatedBy)}, exit code ${result.exitCode}.`,
  ];
  const table = (title: string, axes: GateEvalResult['axes']) => {
    if (axes.length === 0) return;
    lines.push(
      '',
      `**${title}**`,
      '',
      '| outcome | dimension | slice | assertion | detail |',
      '|---|---|---|---|---|',
      ...axes.map(
        (x) =>
          `| ${x.outcome === 'fail' ? 'FAIL' : 'INCONCLUSIVE'} | ${x.dimension ?? '—'} | ${x.slice ?? (x.dimension ? 'all' : '—')} | ${code(x.assertion)} | ${cell(x.detail)} |`,
      ),
    );
  };
  table('Decided by', result.axes);
  table('Outside --fail-on (reported, not failing the build)', result.waived);
  lines.push(
    '',
    '<details><summary>Full gate report</summary>',
    '',
    renderGateReportMarkdown(result.report),
    '',
    '</details>',
    '',
  );
  return lines.join('\n');
}
