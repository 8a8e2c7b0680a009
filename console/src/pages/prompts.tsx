import { usePrompts } from '../api/registry-queries.js';
import { QueryState, Time } from '../components/query-state.js';
import { Link, paths } from '../router.js';

/** Every prompt the person may see, with its versions and where each label points. */
export function PromptsPage() {
  const prompts = usePrompts();
  return (
    <>
      <h1 tabIndex={-1}>Prompts</h1>
      <QueryState query={prompts} what="prompts">
        {(list) =>
          list.length === 0 ? (
            <p>No prompt yet: register one with `flywheel prompt create` or POST /api/prompts.</p>
          ) : (
            <table>
              <thead>
                <tr>
                  <th scope="col">Prompt</th>
                  <th scope="col">Agent</th>
                  <th scope="col">Type</th>
                  <th scope="col">Versions</th>
                  <th scope="col">Labels</th>
                  <th scope="col">Last version</th>
                </tr>
              </thead>
              <tbody>
                {list.map((p) => (
                  <tr key={p.name}>
                    <td>
                      <Link href={paths.prompt(p.name)}>{p.name}</Link>
                    </td>
                    <td>{p.agent}</td>
                    <td>{p.type}</td>
                    <td>{p.versions}</td>
                    <td>
                      {Object.entries(p.labels)
                        .sort(([a], [b]) => a.localeCompare(b))
                        .map(([label, version]) => (
                          <span key={label} class={`badge ${label === 'production' ? 'good' : 'neutral'}`}>
                            {label} → v{version}
                          </span>
                        ))}
                    </td>
                    <td>
                      <Time iso={p.lastUpdatedAt} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )
        }
      </QueryState>
    </>
  );
}
