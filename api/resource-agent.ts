import type { Db } from '../db/connection.js';
import { resourceOwners as owners } from '../registry/resource-owner-service.js';

type Resolver = (request: {
  params: Record<string, string>;
  query: URLSearchParams;
}) => Promise<string | null>;

/**
 * How each route finds the agent whose data it touches, so a per-agent grant or an agent
 * token counts only there. Something that does not exist resolves to null: the route then
 * needs a global role, and a caller without one gets 403 rather than learning whether the
 * name exists; a caller with one gets the route's own 404.
 */
export function resourceAgents(db: Db) {
  // A prompt's owner never changes: resolve (the hot path) looks it up once per process,
  // and concurrent first requests share the one lookup.
  const promptOwners = new Map<string, Promise<string | null>>();
  const byPrompt: Resolver = ({ params }) => {
    const name = params.name ?? '';
    const known = promptOwners.get(name);
    if (known) return known;
    if (promptOwners.size > 10_000) promptOwners.clear();
    const lookup = owners.prompt(db, name).then((agent) => {
      // Only an owner is kept: a name without one may be created any moment.
      if (!agent) promptOwners.delete(name);
      return agent ?? null;
    });
    void lookup.catch(() => promptOwners.delete(name));
    promptOwners.set(name, lookup);
    return lookup;
  };
  return {
    byPrompt,
    /** `:id` is the agent itself. */
    byAgentParam: (({ params }) => Promise.resolve(params.id ?? null)) satisfies Resolver,
    /** Lists filtered by `?agent=`: a per-agent grant may list its own agent's things. */
    byAgentQuery: (({ query }) => Promise.resolve(query.get('agent'))) satisfies Resolver,
    byCycle: (async ({ params }) => (await owners.cycle(db, params.id ?? '')) ?? null) satisfies Resolver,
    byRollout: (async ({ params }) => (await owners.rollout(db, params.id ?? '')) ?? null) satisfies Resolver,
    byQueue: (async ({ params }) => (await owners.queue(db, params.id ?? '')) ?? null) satisfies Resolver,
    byItem: (async ({ params }) => (await owners.item(db, params.id ?? '')) ?? null) satisfies Resolver,
    byDatasetVersion: (async ({ params }) =>
      (await owners.datasetVersion(db, params.versionId ?? '')) ?? null) satisfies Resolver,
    byTrace: (async ({ params }) => (await owners.trace(db, params.id ?? '')) ?? null) satisfies Resolver,
    /** `:id` is anything lineage starts from: the agent of the row it names. */
    byLineageId: (async ({ params }) =>
      (await owners.lineage(db, params.id ?? '')) ?? null) satisfies Resolver,
  };
}

export type ResourceAgents = ReturnType<typeof resourceAgents>;
