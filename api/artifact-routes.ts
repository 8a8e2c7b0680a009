import { z } from 'zod';
import type { Db } from '../db/connection.js';
import { ARTIFACT_KINDS } from '../registry/artifact-kinds.js';
import { artifactHistory, listArtifacts } from '../registry/artifact-listing-service.js';
import { configHistory } from '../registry/config-history-service.js';
import { formatIssues } from '../schemas/format-issues.js';
import { UserError } from '../schemas/user-error.js';
import type { ApiRoute } from './api-route.js';
import type { ResourceAgents } from './resource-agent.js';

const AgentParam = z.object({ id: z.string().describe('The agent id') });
const HistoryParams = AgentParam.extend({ kind: z.enum(ARTIFACT_KINDS) });
const HistoryQuery = z.object({
  name: z
    .string()
    .min(1)
    .optional()
    .describe('Policy section, rubric dimension or prompt name (default for a prompt: the agent’s own)'),
});

/**
 * The versioned artifacts of an agent as `flywheel artifact list` and `history` print them:
 * read-only here; rolling one back is `flywheel rollback` (prompts: POST /api/prompts/:name/rollback).
 */
export function artifactRoutes(deps: { db: Db }, agents: ResourceAgents): ApiRoute[] {
  return [
    {
      method: 'GET',
      url: '/api/agents/:id/artifacts',
      tag: 'agents',
      summary:
        "The agent's versioned artifacts (configuration, prompts, rubrics, dataset, policies, optimizer) with their current version and what points at it.",
      auth: { role: 'viewer' },
      agent: agents.byAgentParam,
      schema: { params: AgentParam },
      handler: async (r) => {
        const agent = r.params.id ?? '';
        return { status: 200, body: { agent, artifacts: await listArtifacts(deps.db, agent) } };
      },
    },
    {
      method: 'GET',
      url: '/api/agents/:id/artifacts/:kind/history',
      tag: 'agents',
      summary: `The versions of one artifact, oldest first, the current one marked (kind: ${ARTIFACT_KINDS.join(', ')}; ?name= for a policy section, rubric dimension or prompt).`,
      auth: { role: 'viewer' },
      agent: agents.byAgentParam,
      schema: { params: HistoryParams, querystring: HistoryQuery },
      handler: async (r) => {
        const params = HistoryParams.safeParse(r.params);
        if (!params.success)
          throw new UserError(`Unknown artifact kind; use one of ${ARTIFACT_KINDS.join(', ')}.`);
        const query = HistoryQuery.safeParse(Object.fromEntries(r.query));
        if (!query.success) throw new UserError(`${formatIssues(query.error)}.`);
        const { id: agent, kind } = params.data;
        const name = query.data.name;
        return {
          status: 200,
          body: {
            agent,
            kind,
            name: name ?? null,
            versions: await artifactHistory(deps.db, agent, kind, name),
          },
        };
      },
    },
    {
      method: 'GET',
      url: '/api/agents/:id/config-history',
      tag: 'agents',
      summary:
        "Every version of the agent's whole configuration, oldest first, the newest current: who wrote it, why, when, the sections it changed (how, in one line each) and the configuration as written.",
      auth: { role: 'viewer' },
      agent: agents.byAgentParam,
      schema: { params: AgentParam },
      handler: async (r) => {
        const agent = r.params.id ?? '';
        return { status: 200, body: { agent, versions: await configHistory(deps.db, agent) } };
      },
    },
  ];
}
