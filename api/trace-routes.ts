import { z } from 'zod';
import type { Db } from '../db/connection.js';
import { listTraces, showTrace } from '../traces/trace-viewer-service.js';
import { TraceListQueryFields } from '../schemas/trace-list-query.js';
import type { ApiRoute } from './api-route.js';
import type { ResourceAgents } from './resource-agent.js';

/** The trace viewer; the texts it returns are PII-redacted. */
export function traceViewRoutes(deps: { db: Db }, agents: ResourceAgents): ApiRoute[] {
  return [
    {
      method: 'GET',
      url: '/api/traces',
      tag: 'traces',
      summary:
        'Search traces: ?agent=&from=&to=&status=&outcome=&feedback=&cluster=&promptName=&promptVersion=&q=&coaching=&cursor=&limit= (coaching: a coaching id, id@version, any or none).',
      auth: { role: 'viewer' },
      agent: agents.byAgentQuery,
      schema: { querystring: TraceListQueryFields },
      handler: async (r) => ({ status: 200, body: await listTraces(deps.db, r.query) }),
    },
    {
      method: 'GET',
      url: '/api/traces/:id',
      tag: 'traces',
      summary: 'One trace: conversation, span tree, scores, feedback, annotations.',
      auth: { role: 'viewer' },
      agent: agents.byTrace,
      schema: { params: z.object({ id: z.string() }) },
      handler: async (r) => ({ status: 200, body: await showTrace(deps.db, r.params.id ?? '') }),
    },
  ];
}
