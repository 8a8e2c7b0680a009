import type { GateEvalResult } from '../schemas/gate-eval.js';
import type { GateAssertionResult } from '../schemas/gate-report.js';

/*
 * `flywheel eval --junit`: one test case per gate assertion, in the Apache Ant JUnit format
 * CI systems read (the strict schema: aggregated `testsuites` without attributes, every
 * testsuite with `package`, `id`, `properties`, `system-out` and `system-err`, timestamps
 * without a time zone). A failing assertion is a <failure>; an inconclusive, waived or
 * non-gating one is <skipped> with the reason, so the build's state comes from the exit
 * code and the report reads the same as the table.
 */

/** XML text and attribute values; characters XML 1.0 cannot carry are dropped. */
const xml = (text: string) =>
  text
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');

/** `classname` groups the cases by what they measure: flywheel.eval.<agent>.<dimension>[.<slice>]. */
const token = (s: string) => s.replace(/[^A-Za-z0-9_:-]+/g, '_');

function testcase(agent: string, a: GateAssertionResult, waived: ReadonlySet<string>): string {
  const classname = ['flywheel', 'eval', agent, a.dimension ?? 'gate', ...(a.slice ? [a.slice] : [])]
    .map(token)
    .join('.');
  const open = `    <testcase name="${xml(a.name)}" classname="${xml(classname)}" time="0"`;
  if (a.passed) return `${open}/>`;
  const kind = a.kind ?? 'assertion';
  const body =
    a.gating === false
      ? `<skipped message="${xml(`not gating: ${a.detail}`)}"/>`
      : waived.has(a.name)
        ? `<skipped message="${xml(`outside --fail-on: ${a.detail}`)}"/>`
        : a.inconclusive
          ? `<skipped message="${xml(`inconclusive: ${a.detail}`)}"/>`
          : `<failure message="${xml(a.detail)}" type="${xml(`flywheel.gate.${kind}`)}">${xml(a.detail)}</failure>`;
  return `${open}>\n      ${body}\n    </testcase>`;
}

export function renderGateEvalJunit(result: GateEvalResult, hostname: string): string {
  const { report } = result;
  const waived = new Set(result.waived.map((x) => x.assertion));
  const failures = report.assertions.filter(
    (a) => !a.passed && a.gating !== false && !a.inconclusive && !waived.has(a.name),
  ).length;
  const skipped = report.assertions.filter((a) => !a.passed).length - failures;
  // The schema's timestamp has no time zone or fraction: UTC, to the second.
  const timestamp = result.startedAt.slice(0, 19);
  const properties: [string, string][] = [
    ['agent', result.agent],
    ['candidate', `${result.candidate.source} ${result.candidate.ref}`],
    ['production', result.production.id],
    ['dataset', result.dataset.id],
    ['verdict', result.verdict],
    ['exitCode', String(result.exitCode)],
    ['evaluatedBy', result.evaluatedBy],
    ...(result.failOn ? [['failOn', result.failOn.join(',')] as [string, string]] : []),
  ];
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<testsuites>',
    `  <testsuite package="flywheel.eval" id="0" name="${xml(`flywheel eval ${result.agent}`)}" timestamp="${timestamp}" hostname="${xml(hostname || 'localhost')}" tests="${report.assertions.length}" failures="${failures}" errors="0" skipped="${skipped}" time="${result.seconds.toFixed(3)}">`,
    '    <properties>',
    ...properties.map(([name, value]) => `      <property name="${xml(name)}" value="${xml(value)}"/>`),
    '    </properties>',
    ...report.assertions.map((a) => testcase(result.agent, a, waived)),
    `    <system-out>${xml(`${result.verdict.toUpperCase()}${result.axes[0] ? ` on ${result.axes[0].assertion}` : ''}`)}</system-out>`,
    '    <system-err></system-err>',
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n');
}
