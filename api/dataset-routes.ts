import { z } from 'zod';
import type { Db } from '../db/connection.js';
import { diffVersions, listVersions, showVersion, versionExamples } from '../datasets/dataset-service.js';
import { DatasetSplit } from '../schemas/dataset-example.js';
import { formatIssues } from '../schemas/format-issues.js';
import { lineageOf } from '../registry/lineage-service.js';
import { NotFoundError, UserError } from '../schemas/user-error.js';
import { resourceOwners } from '../registry/resource-owner-service.js';
import type { ApiRoute } from './api-route.js';
import type { ResourceAgents } from './resource-agent.js';

const MAX_PAGE = 200;
const ExamplesQuery = z.object({
  split: DatasetSplit.optional(),
  offset: z.string().regex(/^\d+$/).optional(),
  limit: z.string().regex(/^\d+$/).optional(),
});

/** ?split=&offset=&limit= of an examples page, checked; the messages say what to send. */
function examplesPage(query: URLSearchParams) {
  const parsed = ExamplesQuery.safeParse(Object.fromEntries(query));
  if (!parsed.success)
    throw new UserError(
      `Ask for a page as ?split=train|eval|holdout&offset=<0 or more>&limit=<1 to ${MAX_PAGE}>; ${formatIssues(parsed.error)}.`,
    );
  const limit = parsed.data.limit === undefined ? 50 : Number(parsed.data.limit);
  if (limit < 1 || limit > MAX_PAGE) throw new UserError(`limit must be 1 to ${MAX_PAGE}, got ${limit}.`);
  return { split: parsed.data.split ?? null, offset: Number(parsed.data.offset ?? 0), limit };
}

/** Read-only dataset and lineage routes. */
export function datasetRoutes(deps: { db: Db }, agents: ResourceAgents): ApiRoute[] {
  return [
    {
      method: 'GET',
      url: '/api/datasets',
      tag: 'datasets',
      summary: 'Dataset versions, newest first.',
      auth: { role: 'viewer' },
      agent: agents.byAgentQuery,
      schema: { querystring: z.object({ agent: z.string().optional() }) },
      handler: async (r) => ({
        status: 200,
        body: { versions: await listVersions(deps.db, r.query.get('agent') ?? undefined) },
      }),
    },
    {
      method: 'GET',
      url: '/api/datasets/:versionId',
      tag: 'datasets',
      summary: 'One dataset version, or its diff from another (?diff=<version>).',
      auth: { role: 'viewer' },
      agent: agents.byDatasetVersion,
      schema: {
        params: z.object({ versionId: z.string() }),
        querystring: z.object({ diff: z.string().optional() }),
      },
      handler: async (r) => {
        const other = r.query.get('diff');
        // The version compared against must be readable too.
        if (other) r.requireAgent((await resourceOwners.datasetVersion(deps.db, other)) ?? null);
        const id = r.params.versionId ?? '';
        return {
          status: 200,
          body: other ? await diffVersions(deps.db, other, id) : await showVersion(deps.db, id),
        };
      },
    },
    {
      method: 'GET',
      url: '/api/datasets/:versionId/examples',
      tag: 'datasets',
      summary: `A page of a version's examples in key order, each with its split, slices and lineage (?split=&offset=&limit=, at most ${MAX_PAGE}).`,
      auth: { role: 'viewer' },
      agent: agents.byDatasetVersion,
      schema: { params: z.object({ versionId: z.string() }), querystring: ExamplesQuery },
      handler: async (r) => ({
        status: 200,
        body: await versionExamples(deps.db, r.params.versionId ?? '', examplesPage(r.query)),
      }),
    },
    {
      method: 'GET',
      url: '/api/lineage/:id',
      tag: 'datasets',
      summary:
        "What a trace, cluster, annotation, dataset example or version, candidate, gate report, release decision, rollout, prompt version or cycle came from and led to; a per-agent viewer reads its own agent's.",
      auth: { role: 'viewer' },
      // An id that names nothing resolves to no agent and needs a global role, like another
      // agent's id: a per-agent viewer gets the same 403 for both and learns nothing.
      agent: agents.byLineageId,
      agentUnnamed: true,
      schema: { params: z.object({ id: z.string() }) },
      handler: async (r) => {
        const graph = await lineageOf(deps.db, r.params.id ?? '');
        if (!graph) throw new NotFoundError(`Nothing is recorded under "${r.params.id}".`);
        return { status: 200, body: graph };
      },
    },
  ];
}
