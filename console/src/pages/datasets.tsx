import { useDatasetVersions } from '../api/registry-queries.js';
import { QueryState, Time } from '../components/query-state.js';
import { Link, paths } from '../router.js';

/** Every dataset version the person may see, newest first, with its split sizes and origin. */
export function DatasetsPage() {
  const versions = useDatasetVersions();
  return (
    <>
      <h1 tabIndex={-1}>Datasets</h1>
      <QueryState query={versions} what="dataset versions">
        {(list) =>
          list.length === 0 ? (
            <p>
              No dataset version yet: a cycle builds one from its labelled traces, or import a file with
              `flywheel dataset import`.
            </p>
          ) : (
            <table>
              <caption>Dataset versions, newest first</caption>
              <thead>
                <tr>
                  <th scope="col">Version</th>
                  <th scope="col">Dataset</th>
                  <th scope="col">Agent</th>
                  <th scope="col">Train</th>
                  <th scope="col">Eval</th>
                  <th scope="col">Holdout</th>
                  <th scope="col">Built by</th>
                  <th scope="col">Note</th>
                  <th scope="col">Created</th>
                </tr>
              </thead>
              <tbody>
                {[...list]
                  .sort((a, b) => b.createdAt.localeCompare(a.createdAt))
                  .map((v) => (
                    <tr key={v.datasetVersionId}>
                      <td>
                        <Link href={paths.datasetVersion(v.datasetVersionId)}>{v.datasetVersionId}</Link>
                        {!v.publishedAt && <span class="badge neutral">draft</span>}
                      </td>
                      <td>{v.dataset}</td>
                      <td>{v.agent}</td>
                      <td>{v.train}</td>
                      <td>{v.eval}</td>
                      <td>{v.holdout}</td>
                      <td>
                        {v.cycleId ? <Link href={paths.cycle(v.cycleId)}>{v.cycleId}</Link> : v.createdBy}
                      </td>
                      <td>{v.note}</td>
                      <td>
                        <Time iso={v.createdAt} />
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
