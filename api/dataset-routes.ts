import { z } from 'zod';
import type { Db } from '../db/connection.js';
import { diffVersions, listVersions, showVersion } from '../datasets/dataset-service.js';
import { lineageOf } from '../registry/lineage-service.js';
import { NotFoundError } from '../schemas/user-error.js';
import { resourceOwners } from '../registry/resource-owner-service.js';
import type { ApiRoute } from './api-route.js';
import type { ResourceAgents } from './resource-agent.js';

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
      url: '/api/lineage/:id',
      tag: 'datasets',
      summary: 'What a prompt version, dataset version, cycle or trace came from and led to.',
      auth: { role: 'viewer' },
      schema: { params: z.object({ id: z.string() }) },
      handler: async (r) => {
        const graph = await lineageOf(deps.db, r.params.id ?? '');
        if (!graph) throw new NotFoundError(`Nothing is recorded under "${r.params.id}".`);
        return { status: 200, body: graph };
      },
    },
  ];
}
