import { useAgents } from '../api/queries.js';
import { useArtifactHistory, useArtifacts } from '../api/registry-queries.js';
import type { Artifact, ArtifactKind } from '../api/registry-types.js';
import { QueryState, Time } from '../components/query-state.js';
import { Link, navigate, paths, useLocation } from '../router.js';

const KINDS = [
  'prompt',
  'rubric',
  'dataset',
  'policy',
  'optimizer',
] as const satisfies readonly ArtifactKind[];
const isKind = (s: string | null): s is ArtifactKind => KINDS.some((k) => k === s);
const v = (n: number | null) => (n === null ? '—' : `v${n}`);
const title = (a: { kind: string; name: string | null }) => (a.name ? `${a.kind} ${a.name}` : a.kind);

/**
 * Every versioned artifact of an agent (its configuration, prompts, judge rubrics, dataset,
 * policies and optimizer settings) with the current version and what points at it, and the
 * history of any one of them: what `flywheel artifact list` and `history` print.
 */
export function ArtifactsPage() {
  const location = useLocation();
  const query = new URLSearchParams(location.split('?')[1] ?? '');
  const agents = useAgents();
  const kind = query.get('kind');
  const name = query.get('name');
  return (
    <>
      <h1 tabIndex={-1}>Artifacts</h1>
      <QueryState query={agents} what="agents">
        {(list) => {
          const agent = query.get('agent') ?? list[0]?.id ?? null;
          if (!agent) return <p>No agent yet.</p>;
          const select = (next: URLSearchParams) =>
            navigate(`${paths.artifacts()}?${next.toString()}`, { replace: true });
          return (
            <>
              <div class="toolbar">
                <label class="inline" for="artifact-agent">
                  Agent
                </label>
                <select
                  id="artifact-agent"
                  value={agent}
                  onChange={(e) => select(new URLSearchParams({ agent: e.currentTarget.value }))}
                >
                  {list.map((a) => (
                    <option key={a.id} value={a.id}>
                      {a.id}
                    </option>
                  ))}
                </select>
              </div>
              <ArtifactTable
                agent={agent}
                chosen={isKind(kind) ? { kind, name } : null}
                choose={(a) => {
                  const next = new URLSearchParams({ agent, kind: a.kind });
                  if (a.name) next.set('name', a.name);
                  select(next);
                  // The history shows under the whole table, past the other artifacts'
                  // buttons: bring the reader to it (not when a link opens the page with it).
                  requestAnimationFrame(() => document.getElementById('artifact-history')?.focus());
                }}
              />
              {isKind(kind) && <History agent={agent} kind={kind} name={name} />}
            </>
          );
        }}
      </QueryState>
    </>
  );
}

function ArtifactTable({
  agent,
  chosen,
  choose,
}: {
  agent: string;
  chosen: { kind: ArtifactKind; name: string | null } | null;
  choose: (a: { kind: ArtifactKind; name: string | null }) => void;
}) {
  const artifacts = useArtifacts(agent);
  return (
    <QueryState query={artifacts} what={`the artifacts of ${agent}`}>
      {(list) => (
        <table>
          <caption>Artifacts of {agent}, each rolled back on its own</caption>
          <thead>
            <tr>
              <th scope="col">Artifact</th>
              <th scope="col">Current</th>
              <th scope="col">Newest</th>
              <th scope="col">Chosen by</th>
              <th scope="col">History</th>
            </tr>
          </thead>
          <tbody>
            {list.map((a: Artifact) => {
              const kind = a.kind;
              const isChosen = chosen !== null && chosen.kind === kind && chosen.name === a.name;
              return (
                <tr key={title(a)}>
                  <th scope="row">
                    {kind === 'prompt' && a.name ? (
                      <Link href={paths.prompt(a.name)}>{title(a)}</Link>
                    ) : (
                      title(a)
                    )}
                  </th>
                  <td>{v(a.current)}</td>
                  <td>{v(a.newest)}</td>
                  <td>{a.pointer}</td>
                  <td>
                    {isKind(kind) ? (
                      <button
                        type="button"
                        class="secondary"
                        aria-pressed={isChosen}
                        onClick={() =>
                          choose({ kind, name: kind === 'optimizer' || kind === 'dataset' ? null : a.name })
                        }
                      >
                        History of {title(a)}
                      </button>
                    ) : kind === 'config' ? (
                      <Link href={paths.agentConfig(agent)}>History of the whole configuration</Link>
                    ) : (
                      <span class="muted">—</span>
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </QueryState>
  );
}

function History({ agent, kind, name }: { agent: string; kind: ArtifactKind; name: string | null }) {
  const history = useArtifactHistory(agent, kind, name);
  const label = title({ kind, name });
  return (
    <section aria-labelledby="artifact-history">
      <h2 id="artifact-history" tabIndex={-1}>
        History of {label}
      </h2>
      <QueryState query={history} what={`the history of ${label}`}>
        {(versions) => (
          <table>
            <caption>Oldest first; the current version is marked</caption>
            <thead>
              <tr>
                <th scope="col">Version</th>
                <th scope="col">Created</th>
                <th scope="col">By</th>
                <th scope="col">Why</th>
                <th scope="col">What</th>
              </tr>
            </thead>
            <tbody>
              {versions.map((e) => (
                <tr key={e.version} class={e.current ? 'current-row' : undefined}>
                  <th scope="row">
                    v{e.version} {e.current && <span class="badge good">current</span>}
                  </th>
                  <td>
                    <Time iso={e.createdAt} />
                  </td>
                  <td>{e.createdBy ?? <span class="muted">—</span>}</td>
                  <td>{e.reason ?? <span class="muted">—</span>}</td>
                  <td>
                    <code>{e.summary || '—'}</code>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </QueryState>
    </section>
  );
}
