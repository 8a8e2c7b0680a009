/**
 * Lineage, backward and forward from almost any id (trace, cluster, annotation item, example,
 * dataset version, candidate, gate report, release decision, rollout or cycle): the API and
 * the CLI read it here; the graph is assembled by the store and rendered by lineage-graph.ts.
 */
export { lineageOf } from './store/lineage-repository.js';
