import { useEffect, useRef, useState } from 'preact/hooks';
import {
  useLabelMoves,
  usePromptDiff,
  usePromptVersion,
  usePromptVersions,
} from '../api/registry-queries.js';
import type { PromptVersionEntry, PromptVersions } from '../api/registry-types.js';
import { DiffLines } from '../components/diff-lines.js';
import { LabelActions } from '../components/label-actions.js';
import { LineageView } from '../components/lineage-view.js';
import { QueryState, Time } from '../components/query-state.js';
import { Link, paths } from '../router.js';
import { holds, useMe } from '../session.js';
import { Breadcrumbs } from '../components/breadcrumbs.js';

const labelBadge = (label: string) => (
  <span key={label} class={`badge ${label === 'production' ? 'good' : 'neutral'}`}>
    {label}
  </span>
);

/** One prompt: its versions with their labels, a diff of any two, the label history, and label moves for operators. */
export function PromptPage({ name }: { name: string }) {
  const versions = usePromptVersions(name);
  return (
    <>
      <Breadcrumbs>
        <Link href={paths.prompts()}>Prompts</Link> › {name}
      </Breadcrumbs>
      <h1 tabIndex={-1}>
        Prompt <code>{name}</code>
      </h1>
      <QueryState query={versions} what="the prompt's versions">
        {(answer) => <PromptDetails prompt={answer} />}
      </QueryState>
    </>
  );
}

function PromptDetails({ prompt }: { prompt: PromptVersions }) {
  const me = useMe();
  const { name, versions } = prompt;
  const [shown, setShown] = useState<number | null>(null);
  const [lineageOf, setLineageOf] = useState<string | null>(null);
  return (
    <>
      <p>
        Agent <strong>{prompt.agent}</strong> · {versions.length} version{versions.length === 1 ? '' : 's'} ·
        labels: {versions.flatMap((v) => v.labels.map((l) => `${l} → v${v.version}`)).join(', ')}
      </p>
      {holds(me.grants, 'operator', prompt.agent) ? (
        <LabelActions name={name} versions={versions} />
      ) : (
        <p class="notice">Moving or rolling back a label needs the operator role for {prompt.agent}.</p>
      )}
      <section aria-labelledby="versions">
        <h2 id="versions">Versions</h2>
        <table>
          <caption>Newest first</caption>
          <thead>
            <tr>
              <th scope="col">Version</th>
              <th scope="col">Labels</th>
              <th scope="col">Message</th>
              <th scope="col">Source</th>
              <th scope="col">By</th>
              <th scope="col">Created</th>
              <th scope="col">Look closer</th>
            </tr>
          </thead>
          <tbody>
            {versions.map((v) => (
              <tr key={v.id}>
                <th scope="row">{v.version}</th>
                <td>{v.labels.map(labelBadge)}</td>
                <td>{v.commitMessage ?? <span class="muted">—</span>}</td>
                <td>{v.source}</td>
                <td>{v.createdBy}</td>
                <td>
                  <Time iso={v.createdAt} />
                </td>
                <td>
                  <div class="toolbar">
                    <button
                      type="button"
                      class="secondary"
                      aria-pressed={shown === v.version}
                      onClick={() => setShown(shown === v.version ? null : v.version)}
                    >
                      Text of v{v.version}
                    </button>
                    {/* GET /api/lineage authorizes on the prompt's agent, whose viewers see this page. */}
                    <button type="button" class="secondary" onClick={() => setLineageOf(v.id)}>
                      Lineage of v{v.version}
                    </button>
                  </div>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        {shown !== null && <VersionText name={name} version={shown} />}
        {lineageOf && <LineageView id={lineageOf} onClose={() => setLineageOf(null)} />}
      </section>
      <Compare name={name} versions={versions} />
      <LabelHistory name={name} />
    </>
  );
}

function VersionText({ name, version }: { name: string; version: number }) {
  const body = usePromptVersion(name, version);
  const heading = useRef<HTMLHeadingElement>(null);
  // Shown under the whole table: bring the reader to it, as the lineage view does.
  useEffect(() => heading.current?.focus(), [version]);
  return (
    <section aria-labelledby="version-text">
      <h3 id="version-text" tabIndex={-1} ref={heading}>
        Text of version {version}
      </h3>
      <QueryState query={body} what={`version ${version}`}>
        {(record) => (
          <pre class="diff" tabIndex={0} aria-label={`Text of version ${version}`}>
            {typeof record.prompt === 'string'
              ? record.prompt
              : record.prompt.map((m) => `[${m.role}]\n${m.content}`).join('\n\n')}
          </pre>
        )}
      </QueryState>
    </section>
  );
}

/** Defaults: production against the newest version, or the two newest when production is the newest. */
function defaultPair(versions: readonly PromptVersionEntry[]): [number | null, number | null] {
  const newest = versions[0]?.version ?? null;
  const production = versions.find((v) => v.labels.includes('production'))?.version ?? null;
  if (production !== null && production !== newest) return [production, newest];
  return [versions[1]?.version ?? newest, newest];
}

function Compare({ name, versions }: { name: string; versions: readonly PromptVersionEntry[] }) {
  const [initialFrom, initialTo] = defaultPair(versions);
  const [from, setFrom] = useState(initialFrom);
  const [to, setTo] = useState(initialTo);
  const diff = usePromptDiff(name, from, to);
  const option = (v: PromptVersionEntry) => (
    <option key={v.version} value={String(v.version)}>
      version {v.version}
      {v.labels.length > 0 ? ` (${v.labels.join(', ')})` : ''}
    </option>
  );
  return (
    <section aria-labelledby="compare">
      <h2 id="compare">Compare two versions</h2>
      <div class="toolbar">
        <label class="inline" for="diff-from">
          From
        </label>
        <select id="diff-from" value={String(from)} onChange={(e) => setFrom(Number(e.currentTarget.value))}>
          {versions.map(option)}
        </select>
        <label class="inline" for="diff-to">
          To
        </label>
        <select id="diff-to" value={String(to)} onChange={(e) => setTo(Number(e.currentTarget.value))}>
          {versions.map(option)}
        </select>
      </div>
      <QueryState query={diff} what="the diff">
        {(d) => (
          <>
            <p aria-live="polite">
              Version {d.from.version} → version {d.to.version}: {d.added} line{d.added === 1 ? '' : 's'}{' '}
              added, {d.removed} removed.
            </p>
            {d.added + d.removed > 0 && (
              <DiffLines
                text={d.diff}
                label={`Diff from version ${d.from.version} to version ${d.to.version}`}
              />
            )}
          </>
        )}
      </QueryState>
    </section>
  );
}

function LabelHistory({ name }: { name: string }) {
  const moves = useLabelMoves(name);
  const v = (n: number | null) => (n === null ? 'unset' : `v${n}`);
  return (
    <section aria-labelledby="label-history">
      <h2 id="label-history">Label history</h2>
      <QueryState query={moves} what="the label history">
        {({ moves: list }) =>
          list.length === 0 ? (
            <p>No label has moved yet.</p>
          ) : (
            <table>
              <caption>Every audited move, newest first</caption>
              <thead>
                <tr>
                  <th scope="col">When</th>
                  <th scope="col">Label</th>
                  <th scope="col">Change</th>
                  <th scope="col">Kind</th>
                  <th scope="col">By</th>
                  <th scope="col">Why</th>
                </tr>
              </thead>
              <tbody>
                {list.map((m) => (
                  <tr key={m.auditId}>
                    <td>
                      <Time iso={m.at} />
                    </td>
                    <td>{m.label}</td>
                    <td>
                      {v(m.fromVersion)} → {v(m.toVersion)}
                    </td>
                    <td>{m.action === 'prompt.label.rollback' ? 'rollback' : 'move'}</td>
                    <td>{m.actor}</td>
                    <td>{m.reason || <span class="muted">—</span>}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )
        }
      </QueryState>
    </section>
  );
}
