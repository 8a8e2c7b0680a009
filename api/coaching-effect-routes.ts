import { z } from 'zod';
import {
  coachingEffect,
  EffectQuery,
  markCoaching,
  MarkCoachingRequest,
} from '../coaching/coaching-effect-service.js';
import { CoachingFromItemRequest, coachingFromItem } from '../coaching/coaching-from-item-service.js';
import type { ApiRoute } from './api-route.js';
import { bodyOf, coachingRecallOf, coachingRouteKit, type CoachingRouteDeps } from './coaching-routes.js';
import type { ResourceAgents } from './resource-agent.js';

const CoachingParams = z.object({
  id: z.string().describe('The agent id'),
  coaching: z.string().describe('The coaching id (coa_…)'),
});
const ItemParam = z.object({ id: z.string().describe('The annotation item id') });

/**
 * What reviewers learn and teach about coaching already in use: its measured effect, their
 * marks on its applications (which move its recall threshold), and a review item's
 * correction turned into coaching in one call.
 */
export function coachingEffectRoutes(deps: CoachingRouteDeps, agents: ResourceAgents): ApiRoute[] {
  const { service, agentOf, coachingOf, actor, written } = coachingRouteKit(deps);
  return [
    {
      method: 'GET',
      url: '/api/agents/:id/coaching/:coaching/effect',
      tag: 'coaching',
      summary:
        "A coaching's measured effect over the last `days` days (default 30): the traces that applied it (the turn, feedback, online judge verdict, marks), success with it vs the similar conversations without it (user feedback and online judge, with 95% intervals), reviewers' marks and every threshold it has had.",
      auth: { role: 'viewer' },
      agent: agents.byAgentParam,
      schema: { params: CoachingParams, querystring: EffectQuery },
      handler: async (r) => ({
        status: 200,
        body: await coachingEffect(service(), agentOf(r), coachingOf(r), Object.fromEntries(r.query)),
      }),
    },
    {
      method: 'POST',
      url: '/api/agents/:id/coaching/:coaching/marks',
      tag: 'coaching',
      summary:
        "Mark one application of a coaching (a trace that applied it) as correctly or wrongly applied. The coaching's recall threshold is recomputed from every mark (raised above wrongly applied recalls, held at or below correctly applied ones, within bounds) and a move is a new version. The reviewer is the authenticated person; marking the same trace again replaces your mark.",
      auth: { role: 'reviewer' },
      agent: agents.byAgentParam,
      schema: { params: CoachingParams, body: MarkCoachingRequest },
      handler: async (r) =>
        written(r, 200, await markCoaching(service(), agentOf(r), coachingOf(r), bodyOf(r), actor(r))),
    },
    {
      method: 'POST',
      url: '/api/items/:id/coaching',
      tag: 'coaching',
      summary:
        "Turn a review item's correction into coaching in one call: the behaviour is the corrected step (yours, else the latest reviewer's), the situation is suggested from the conversation (\"When replying to: …\") unless you give one, linked to the item's trace. The author is the authenticated person.",
      auth: { role: 'reviewer' },
      agent: agents.byItem,
      schema: { params: ItemParam, body: CoachingFromItemRequest },
      handler: async (r) => {
        const created = await coachingFromItem(
          service(),
          r.params.id ?? '',
          r.raw.length === 0 ? {} : bodyOf(r),
          {
            reviewer: r.principal.id,
            author: actor(r),
          },
        );
        await coachingRecallOf(deps).indexes.invalidate(created.coaching.agent);
        return { status: 201, body: created };
      },
    },
  ];
}
