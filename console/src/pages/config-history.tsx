import { useEffect, useRef, useState } from 'preact/hooks';
import { useConfigHistory } from '../api/registry-queries.js';
import type { ConfigVersion } from '../api/registry-types.js';
import { QueryState, Time } from '../components/query-state.js';
import { Link, paths } from '../router.js';
import { Breadcrumbs } from '../components/breadcrumbs.js';

/**
 * The history of an agent's whole configuration, newest first: per version who wrote it,
 * why, when and which sections it changed (how, in one line each), and the configuration
 * as written on demand. The per-section histories (policies, optimizer) on the artifacts
 * page are cut from this one.
 */
export function ConfigHistoryPage({ agentId }: { agentId: string }) {
  const history = useConfigHistory(agentId);
  return (
    <>
      <Breadcrumbs>
        <Link href={paths.artifacts(agentId)}>Artifacts</Link> ›{' '}
        <Link href={paths.agent(agentId)}>Agent dashboard</Link> ›
      </Breadcrumbs>
      <h1 tabIndex={-1}>
        Configuration history: <code>{agentId}</code>
      </h1>
      <QueryState query={history} what="the configuration history">
        {(versions) => <Versions versions={versions} />}
      </QueryState>
    </>
  );
}

function Versions({ versions }: { versions: ConfigVersion[] }) {
  const [shown, setShown] = useState<number | null>(null);
  const newestFirst = [...versions].reverse();
  const chosen = versions.find((v) => v.version === shown);
  const heading = useRef<HTMLHeadingElement>(null);
  // Shown under the whole table: bring the reader to it, as the lineage view does.
  useEffect(() => heading.current?.focus(), [shown]);
  return (
    <>
      <p>
        {versions.length} version{versions.length === 1 ? '' : 's'}; every change to any section makes a new
        one. Roll back a single section with <code>flywheel rollback</code>.
      </p>
      <table>
        <caption>Newest first; the current version is marked</caption>
        <thead>
          <tr>
            <th scope="col">Version</th>
            <th scope="col">Created</th>
            <th scope="col">By</th>
            <th scope="col">Why</th>
            <th scope="col">What changed</th>
            <th scope="col">Configuration</th>
          </tr>
        </thead>
        <tbody>
          {newestFirst.map((v) => (
            <tr key={v.version} class={v.current ? 'current-row' : undefined}>
              <th scope="row">
                v{v.version} {v.current && <span class="badge good">current</span>}
              </th>
              <td>
                <Time iso={v.createdAt} />
              </td>
              <td>{v.createdBy}</td>
              <td>{v.reason || <span class="muted">—</span>}</td>
              <td>
                {v.changes.length === 0 ? (
                  <span class="muted">
                    {v.version === versions[0]?.version ? 'first version' : 'no change'}
                  </span>
                ) : (
                  <ul class="plain" aria-label={`Changes in v${v.version}`}>
                    {v.changes.map((c) => (
                      <li key={c.section}>
                        <strong>{c.section}</strong>: <code>{c.change}</code>
                      </li>
                    ))}
                  </ul>
                )}
              </td>
              <td>
                <button
                  type="button"
                  class="secondary"
                  aria-pressed={shown === v.version}
                  onClick={() => setShown(shown === v.version ? null : v.version)}
                >
                  Configuration v{v.version}
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {chosen && (
        <section aria-labelledby="config-text">
          <h2 id="config-text" tabIndex={-1} ref={heading}>
            Configuration v{chosen.version}, as written
          </h2>
          <pre class="config-text">{JSON.stringify(chosen.config, null, 2)}</pre>
        </section>
      )}
    </>
  );
}
