import type { ApiDeps } from './http-server.js';
import type { ApiRoute } from './api-route.js';
import { agentRoutes } from './agent-routes.js';
import { annotationRoutes } from './annotation-routes.js';
import { artifactRoutes } from './artifact-routes.js';
import { codecRoutes } from './codec-routes.js';
import { coachingEffectRoutes } from './coaching-effect-routes.js';
import { coachingRoutes } from './coaching-routes.js';
import { consoleRoutes } from './console-routes.js';
import { cycleRoutes } from './cycle-routes.js';
import { datasetRoutes } from './dataset-routes.js';
import { ingestRoutes } from './ingest-routes.js';
import { promptRoutes } from './prompt-routes.js';
import { resourceAgents } from './resource-agent.js';
import { rolloutRoutes } from './rollout-routes.js';
import { sessionRoutes } from './session-routes.js';
import { tokenRoutes } from './token-routes.js';
import { traceViewRoutes } from './trace-routes.js';
import { userRoutes } from './user-routes.js';

/**
 * Every route of the API but health, in one list: each declares its path, its schemas and
 * the role or agent-token scope it needs (api/api-route.ts).
 */
export function apiRouteTable(deps: ApiDeps): ApiRoute[] {
  const agents = resourceAgents(deps.db);
  return [
    ...ingestRoutes(deps),
    ...promptRoutes(deps, agents),
    ...annotationRoutes(deps, agents),
    ...cycleRoutes(deps, agents),
    ...rolloutRoutes(deps, agents),
    ...datasetRoutes(deps, agents),
    ...agentRoutes(deps, agents),
    ...artifactRoutes(deps, agents),
    ...coachingRoutes(deps, agents),
    ...coachingEffectRoutes(deps, agents),
    ...traceViewRoutes(deps, agents),
    ...sessionRoutes(deps),
    ...userRoutes(deps, agents),
    ...tokenRoutes(deps, agents),
    ...codecRoutes(deps),
    ...consoleRoutes(deps),
  ];
}
