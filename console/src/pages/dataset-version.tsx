import { useState } from 'preact/hooks';
import { EXAMPLES_PER_PAGE, useDatasetExamples, useDatasetVersion } from '../api/registry-queries.js';
import type { DatasetExample, DatasetVersion, Split } from '../api/registry-types.js';
import { LineageView } from '../components/lineage-view.js';
import { QueryState, Time } from '../components/query-state.js';
import { Link, navigate, paths, useLocation } from '../router.js';
import { Breadcrumbs } from '../components/breadcrumbs.js';

const SPLITS = ['train', 'eval', 'holdout'] as const satisfies readonly Split[];
const isSplit = (s: string | null): s is Split => SPLITS.some((x) => x === s);

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;

/** The last user message of an example's recorded conversation: what the agent answered. */
function question(input: unknown): string {
  const messages = isRecord(input) && Array.isArray(input.messages) ? input.messages : [];
  const user = messages.filter((m): m is Record<string, unknown> => isRecord(m) && m.role === 'user').at(-1);
  const text = typeof user?.content === 'string' ? user.content : JSON.stringify(input);
  return text.length > 160 ? `${text.slice(0, 157)}…` : text;
}

/** The expected step: an action with its arguments, or a reply. */
function expectation(expected: unknown): string {
  if (!isRecord(expected)) return JSON.stringify(expected);
  const action = typeof expected.action === 'string' ? expected.action : '?';
  const args = isRecord(expected.arguments) ? JSON.stringify(expected.arguments) : '';
  return args ? `${action} ${args}` : action;
}

/** One dataset version: where it came from, its splits and slices, and its examples by split with their lineage. */
export function DatasetVersionPage({ versionId }: { versionId: string }) {
  const version = useDatasetVersion(versionId);
  return (
    <>
      <Breadcrumbs>
        <Link href={paths.datasets()}>Datasets</Link> › {versionId}
      </Breadcrumbs>
      <h1 tabIndex={-1}>
        Dataset version <code>{versionId}</code>
      </h1>
      <QueryState query={version} what="the dataset version">
        {(v) => <VersionDetails version={v} />}
      </QueryState>
    </>
  );
}

function VersionDetails({ version: v }: { version: DatasetVersion }) {
  const [lineageOf, setLineageOf] = useState<string | null>(null);
  const total = v.splits.train + v.splits.eval + v.splits.holdout;
  return (
    <>
      <section aria-labelledby="about">
        <h2 id="about">About this version</h2>
        <dl class="facts">
          <dt>Dataset</dt>
          <dd>
            {v.dataset} (agent {v.agent}), version {v.version}
          </dd>
          <dt>Parent</dt>
          <dd>
            {v.parent ? (
              <Link href={paths.datasetVersion(v.parent)}>{v.parent}</Link>
            ) : (
              'none (first version)'
            )}
          </dd>
          <dt>Built by</dt>
          <dd>{v.cycleId ? <Link href={paths.cycle(v.cycleId)}>{v.cycleId}</Link> : v.createdBy}</dd>
          <dt>Note</dt>
          <dd>{v.note || '—'}</dd>
          <dt>Published</dt>
          <dd>{v.publishedAt ? <Time iso={v.publishedAt} /> : 'not yet (a draft)'}</dd>
          <dt>Examples</dt>
          <dd>
            {total}: {v.splits.train} train, {v.splits.eval} eval, {v.splits.holdout} holdout
            {v.excludedFromGating > 0 && <> · {v.excludedFromGating} kept out of gating</>}
          </dd>
          <dt>Lineage</dt>
          <dd>
            {v.lineage.fromTraces} from traces, {v.lineage.annotated} annotated, {v.lineage.imported}{' '}
            imported, {v.lineage.clusters} failure cluster{v.lineage.clusters === 1 ? '' : 's'}
            {v.lineage.runsTrainedOn.length > 0 && <> · trained on by {v.lineage.runsTrainedOn.join(', ')}</>}
          </dd>
        </dl>
        {/* GET /api/lineage authorizes on the version's agent, whose viewers see this page. */}
        <button type="button" class="secondary" onClick={() => setLineageOf(v.datasetVersionId)}>
          Lineage of this version
        </button>
      </section>
      {lineageOf && <LineageView id={lineageOf} onClose={() => setLineageOf(null)} />}
      {v.slices.length > 0 && (
        <section aria-labelledby="slices">
          <h2 id="slices">Slices</h2>
          <table>
            <thead>
              <tr>
                <th scope="col">Slice</th>
                <th scope="col">Train</th>
                <th scope="col">Eval</th>
                <th scope="col">Holdout</th>
              </tr>
            </thead>
            <tbody>
              {v.slices.map((s) => (
                <tr key={s.slice}>
                  <th scope="row">{s.slice}</th>
                  <td>{s.train}</td>
                  <td>{s.eval}</td>
                  <td>{s.holdout}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      )}
      <Examples version={v} onLineage={setLineageOf} />
      {v.retired.length > 0 && (
        <section aria-labelledby="retired">
          <h2 id="retired">Retired in this version</h2>
          <ul>
            {v.retired.map((r) => (
              <li key={r.key}>
                <code>{r.key}</code>: {r.reason} ({r.retiredBy})
              </li>
            ))}
          </ul>
        </section>
      )}
    </>
  );
}

function Examples({
  version: v,
  onLineage,
}: {
  version: DatasetVersion;
  onLineage: ((id: string) => void) | null;
}) {
  const location = useLocation();
  const query = new URLSearchParams(location.split('?')[1] ?? '');
  const wanted = query.get('split');
  const split = isSplit(wanted) ? wanted : null;
  const offset = Math.max(0, Number(query.get('offset') ?? 0) || 0);
  const page = useDatasetExamples(v.datasetVersionId, split, offset);
  const go = (next: { split: Split | null; offset: number }) => {
    const q = new URLSearchParams();
    if (next.split) q.set('split', next.split);
    if (next.offset > 0) q.set('offset', String(next.offset));
    const search = q.toString();
    navigate(`${paths.datasetVersion(v.datasetVersionId)}${search ? `?${search}` : ''}`, { replace: true });
  };
  const total = v.splits.train + v.splits.eval + v.splits.holdout;
  return (
    <section aria-labelledby="examples">
      <h2 id="examples">Examples</h2>
      <fieldset class="split-filter">
        <legend>Show split</legend>
        {[null, ...SPLITS].map((s) => (
          <label key={s ?? 'all'} class="inline">
            <input
              type="radio"
              name="split"
              checked={split === s}
              onChange={() => go({ split: s, offset: 0 })}
            />{' '}
            {s ?? 'all'} ({s ? v.splits[s] : total})
          </label>
        ))}
      </fieldset>
      <QueryState query={page} what="the examples">
        {(p) => (
          <>
            <table>
              <caption aria-live="polite">
                {p.total === 0
                  ? 'No example in this split'
                  : `Examples ${p.offset + 1}–${p.offset + p.examples.length} of ${p.total}${p.split ? ` in ${p.split}` : ''}, by key`}
              </caption>
              <thead>
                <tr>
                  <th scope="col">Key</th>
                  <th scope="col">Split</th>
                  <th scope="col">Slices</th>
                  <th scope="col">Question</th>
                  <th scope="col">Expected</th>
                  <th scope="col">Source</th>
                  {onLineage && <th scope="col">Lineage</th>}
                </tr>
              </thead>
              <tbody>
                {p.examples.map((e) => (
                  <ExampleRow key={e.id} example={e} onLineage={onLineage} />
                ))}
              </tbody>
            </table>
            <div class="toolbar">
              {/* aria-disabled, not disabled: reaching the last page would disable the
                  focused "Next page" and drop focus to the top of the page. */}
              <button
                type="button"
                class="secondary"
                aria-disabled={p.offset === 0}
                onClick={() => {
                  if (p.offset > 0) go({ split, offset: Math.max(0, offset - EXAMPLES_PER_PAGE) });
                }}
              >
                Previous page
              </button>
              <button
                type="button"
                class="secondary"
                aria-disabled={p.offset + p.examples.length >= p.total}
                onClick={() => {
                  if (p.offset + p.examples.length < p.total)
                    go({ split, offset: offset + EXAMPLES_PER_PAGE });
                }}
              >
                Next page
              </button>
            </div>
          </>
        )}
      </QueryState>
    </section>
  );
}

function ExampleRow({
  example: e,
  onLineage,
}: {
  example: DatasetExample;
  onLineage: ((id: string) => void) | null;
}) {
  return (
    <tr>
      <th scope="row">
        <code>{e.key}</code>
      </th>
      <td>
        <span class="badge neutral">{e.split}</span>
        {e.gatingExcluded && <span class="muted"> ({e.gatingExcluded})</span>}
      </td>
      <td>{e.slices.join(', ') || <span class="muted">—</span>}</td>
      <td>{question(e.input)}</td>
      <td>
        <code>{expectation(e.expected)}</code>
      </td>
      <td>
        {e.lineage.source}
        {e.lineage.cycleId && (
          <>
            {' '}
            · <Link href={paths.cycle(e.lineage.cycleId)}>{e.lineage.cycleId}</Link>
          </>
        )}
        {e.lineage.clusterStableId && <> · cluster {e.lineage.clusterStableId}</>}
      </td>
      {onLineage && (
        <td>
          <button type="button" class="secondary" onClick={() => onLineage(e.id)}>
            Lineage of {e.key}
          </button>
        </td>
      )}
    </tr>
  );
}
