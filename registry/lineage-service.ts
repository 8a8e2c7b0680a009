/**
 * Lineage, backward and forward from almost any id (trace, cluster, annotation item, example,
 * dataset version, candidate, gate report, release decision, rollout or cycle): the API and
 * the CLI read it here; the graph is assembled by the store and rendered by lineage-graph.ts.
 * A trace's lineage as flat lists (its prompt version, sampling cycles, clusters, dataset
 * examples) is what the trace viewer shows.
 */
export { lineageOf } from './store/lineage-repository.js';
export { traceLineageRows } from './store/trace-lineage.js';
