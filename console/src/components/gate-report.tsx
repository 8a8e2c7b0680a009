import { useCoaching } from '../api/coaching-queries.js';
import type { GateAssertion, GateReview, GateSlice } from '../api/release-types.js';
import { Link, paths } from '../router.js';
import { DiffLines } from './diff-lines.js';

const num = (x: number | null | undefined, digits = 3) =>
  x === null || x === undefined ? '—' : x.toFixed(digits);
const signed = (x: number | null | undefined) =>
  x === null || x === undefined ? '—' : `${x >= 0 ? '+' : '−'}${Math.abs(x).toFixed(3)}`;
const interval = (ci: readonly number[] | null | undefined) =>
  ci && ci.length === 2 ? `[${signed(ci[0])}, ${signed(ci[1])}]` : '—';

/** Failing first, then inconclusive, then passing: what an approver must read comes first. */
const assertionRank = (a: GateAssertion) => (!a.passed && !a.inconclusive ? 0 : a.inconclusive ? 1 : 2);
/** Regressed gated slices first, then by delta, worst first. */
const sliceRank = (s: GateSlice) => (s.regressed ? 0 : s.gated ? 1 : 2);

function Verdict({ assertion }: { assertion: GateAssertion }) {
  if (assertion.inconclusive) return <span class="badge neutral">inconclusive</span>;
  return assertion.passed ? <span class="badge good">passed</span> : <span class="badge bad">failed</span>;
}

/** The gate's decision: verdict, every assertion and every slice of the candidate against production. */
export function GateReportView({ review, agent }: { review: GateReview; agent: string }) {
  const { report } = review;
  const assertions = [...report.assertions].sort((a, b) => assertionRank(a) - assertionRank(b));
  const slices = [...(report.slices ?? [])].sort(
    (a, b) => sliceRank(a) - sliceRank(b) || (a.delta ?? 0) - (b.delta ?? 0),
  );
  return (
    <>
      <p>
        Verdict:{' '}
        <span
          class={`badge ${report.verdict === 'pass' ? 'good' : report.verdict === 'fail' ? 'bad' : 'neutral'}`}
        >
          {report.verdict}
        </span>{' '}
        on {report.evalExamples} eval examples
        {report.failingAssertion && (
          <>
            {' '}
            · first failing assertion: <strong>{report.failingAssertion}</strong>
          </>
        )}
        {report.composite && (
          <>
            {' '}
            · composite {num(report.composite.baseline)} → {num(report.composite.candidate)} (
            {signed(report.composite.delta)}, CI {interval(report.composite.ci)})
          </>
        )}
      </p>
      <table>
        <caption>Assertions, failing first</caption>
        <thead>
          <tr>
            <th scope="col">Assertion</th>
            <th scope="col">Result</th>
            <th scope="col">Value</th>
            <th scope="col">Threshold</th>
            <th scope="col">Δ vs production</th>
            <th scope="col">Detail</th>
          </tr>
        </thead>
        <tbody>
          {assertions.map((a) => (
            <tr key={a.name} class={assertionRank(a) === 0 ? 'failing-row' : undefined}>
              <th scope="row">
                {a.name}
                {a.gating === false && <span class="muted"> (information only)</span>}
              </th>
              <td>
                <Verdict assertion={a} />
              </td>
              <td>{num(a.value)}</td>
              <td>{num(a.threshold)}</td>
              <td>
                {signed(a.delta)} {a.ci && <span class="muted">CI {interval(a.ci)}</span>}
              </td>
              <td>{a.detail}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {slices.length > 0 && (
        <table>
          <caption>Slices, regressions first</caption>
          <thead>
            <tr>
              <th scope="col">Slice</th>
              <th scope="col">Dimension</th>
              <th scope="col">Examples</th>
              <th scope="col">Production</th>
              <th scope="col">Candidate</th>
              <th scope="col">Δ (CI)</th>
              <th scope="col">Result</th>
            </tr>
          </thead>
          <tbody>
            {slices.map((s) => (
              <tr key={`${s.slice}/${s.dimension}`} class={s.regressed ? 'failing-row' : undefined}>
                <th scope="row">{s.slice}</th>
                <td>{s.dimension}</td>
                <td>{s.examples}</td>
                <td>{num(s.baseline)}</td>
                <td>{num(s.candidate)}</td>
                <td>
                  {signed(s.delta)} <span class="muted">{interval(s.ci)}</span>
                </td>
                <td>
                  {s.regressed ? (
                    <span class="badge bad">regressed</span>
                  ) : s.gated ? (
                    <span class="badge good">held</span>
                  ) : (
                    <span class="badge neutral">too small to gate</span>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {report.coaching && <CoachingSetView coaching={report.coaching} agent={agent} />}
    </>
  );
}

/**
 * The coaching the gate replayed: the active memories in both arms, and each candidate
 * member's own evidence (the examples that recalled it, better or worse with it); a member
 * dropped for harm is retired, the rest are released with the candidate. Each member links to
 * its coaching page and says its situation as of the version the gate judged, so a person
 * knows which memory a row is without looking its id up.
 */
function CoachingSetView({
  coaching,
  agent,
}: {
  coaching: NonNullable<GateReview['report']['coaching']>;
  agent: string;
}) {
  const members = coaching.members ?? [];
  return (
    <>
      <p>
        Coaching: {coaching.active} active {coaching.active === 1 ? 'memory' : 'memories'} in both arms;{' '}
        {coaching.set.length === 0
          ? 'no candidate coaching in the set.'
          : `${coaching.set.length} candidate ${coaching.set.length === 1 ? 'memory' : 'memories'} in the set, released with the candidate when it passes.`}
      </p>
      {members.length > 0 && (
        <table>
          <caption>Candidate coaching, member by member</caption>
          <thead>
            <tr>
              <th scope="col">Coaching</th>
              <th scope="col">Recalled on</th>
              <th scope="col">Better</th>
              <th scope="col">Worse</th>
              <th scope="col">Result</th>
              <th scope="col">Detail</th>
            </tr>
          </thead>
          <tbody>
            {members.map((m) => (
              <tr key={m.id} class={m.kept ? undefined : 'failing-row'}>
                <th scope="row">
                  <Link href={paths.coaching(agent, m.id)}>
                    {m.id} v{m.version}
                  </Link>
                  <MemberSituation agent={agent} id={m.id} version={m.version} />
                </th>
                <td>{m.recalled}</td>
                <td>{m.better}</td>
                <td>{m.worse}</td>
                <td>
                  {m.kept ? (
                    <span class="badge good">kept</span>
                  ) : (
                    <span class="badge bad">{m.retire ? 'left out, retired' : 'left out'}</span>
                  )}
                </td>
                <td>{m.detail}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}

/** The candidate prompt against production as a unified diff; added and removed lines marked. */
export function PromptDiff({ review }: { review: GateReview }) {
  if (!review.diff || !review.candidate)
    return <p>The candidate has no prompt version to compare (it did not pass the gate).</p>;
  const changed = review.diff.added + review.diff.removed > 0;
  const set = review.report.coaching?.set.length ?? 0;
  return (
    <>
      <p>
        {review.baseline.name} version {review.baseline.version} (production) → version{' '}
        {review.candidate.version} (candidate):{' '}
        {changed
          ? `${review.diff.added} lines added, ${review.diff.removed} removed.`
          : `the same prompt${set > 0 ? `, released with the coaching set above (${set} ${set === 1 ? 'memory' : 'memories'})` : ''}; no line differs.`}
      </p>
      {/* An empty diff has nothing to show (and an empty labelled <pre> is refused by axe). */}
      {changed && <DiffLines text={review.diff.text} label="Prompt diff, production to candidate" />}
    </>
  );
}

/**
 * A member's situation at the version the gate judged: one coaching read per member (a set
 * has a handful), not the agent's whole coaching list.
 */
function MemberSituation({ agent, id, version }: { agent: string; id: string; version: number }) {
  const one = useCoaching(agent, id);
  const situation =
    one.data?.versions.find((v) => v.version === version)?.situation ?? one.data?.coaching.situation;
  return situation ? <span class="member-situation">{situation}</span> : null;
}
