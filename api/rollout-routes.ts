import { z } from 'zod';
import type { Client } from '@temporalio/client';
import { controlRollout, rolloutState } from '../release/rollout-service.js';
import { rolloutStepResults } from '../release/rollout-step-service.js';
import type { Db } from '../db/connection.js';
import { PromoteArgs, RolloutActionArgs, SetWeightArgs } from '../schemas/rollout-control.js';
import type { ApiRoute } from './api-route.js';
import { deciderOf } from './cycle-routes.js';
import type { DecisionSigner } from '../release/decision-signing-service.js';
import type { ResourceAgents } from './resource-agent.js';

const ACTIONS = [
  {
    path: 'promote',
    update: 'promote',
    body: PromoteArgs,
    summary: 'Skip the step the rollout is paused on (`full`: every remaining step).',
  },
  {
    path: 'pause',
    update: 'pause',
    body: RolloutActionArgs,
    summary: 'Hold the current weight until resumed.',
  },
  { path: 'resume', update: 'resume', body: RolloutActionArgs, summary: 'Go on from a pause.' },
  {
    path: 'abort',
    update: 'abort',
    body: RolloutActionArgs,
    summary: 'Stop and send all traffic back to the baseline.',
  },
  {
    path: 'weight',
    update: 'setWeight',
    body: SetWeightArgs,
    summary: "Set the candidate's traffic share (0–100).",
  },
] as const;

const IdParam = z.object({ id: z.string().describe("The rollout's workflow ID or its cycle's ID") });

/**
 * GET /api/rollouts/:id (the rollout's live state) and POST /api/rollouts/:id/<action>;
 * the audit log records the authenticated operator.
 */
export function rolloutRoutes(
  deps: { db: Db; temporal: Client; decisionSigner?: DecisionSigner },
  agents: ResourceAgents,
): ApiRoute[] {
  return [
    {
      method: 'GET',
      url: '/api/rollouts/:id',
      tag: 'rollouts',
      summary: "A rollout's live state: phase, step, weight, analyses.",
      auth: { role: 'viewer' },
      agent: agents.byRollout,
      schema: { params: IdParam },
      handler: async (r) => ({ status: 200, body: await rolloutState(deps.temporal, r.params.id ?? '') }),
    },
    {
      method: 'GET',
      url: '/api/rollouts/:id/steps',
      tag: 'rollouts',
      summary:
        'What the rollout measured: each analysis round, replay and shadow comparison with its verdict.',
      auth: { role: 'viewer' },
      agent: agents.byRollout,
      schema: { params: IdParam },
      handler: async (r) => ({
        status: 200,
        body: { steps: await rolloutStepResults(deps.db, r.params.id ?? '') },
      }),
    },
    ...ACTIONS.map((a): ApiRoute => ({
      method: 'POST',
      url: `/api/rollouts/:id/${a.path}`,
      tag: 'rollouts',
      summary: a.summary,
      auth: { role: 'operator' },
      agent: agents.byRollout,
      schema: { params: IdParam, body: a.body },
      handler: async (r) => ({
        status: 200,
        body: await controlRollout(
          deps.temporal,
          r.params.id ?? '',
          a.update,
          r.raw.length === 0 ? {} : r.json(),
          deciderOf(deps, r.principal),
        ),
      }),
    })),
  ];
}
