import { z } from 'zod';
import type { Client } from '@temporalio/client';
import { approveCycle, cycleStatus, listCycles, rejectCycle, startCycle } from '../cycles/cycle-service.js';
import { cycleGateReview } from '../cycles/cycle-gate-service.js';
import { optimizationProgress } from '../optimization/optimization-progress-service.js';
import type { Db } from '../db/connection.js';
import { ApproveArgs, RejectArgs } from '../schemas/approval.js';
import { ServiceUnavailable, UserError } from '../schemas/user-error.js';
import type { ApiRoute } from './api-route.js';
import type { Decider, DecisionSigner } from '../release/decision-signing-service.js';
import type { Principal } from '../schemas/principal.js';
import type { ResourceAgents } from './resource-agent.js';

export interface CycleRouteDeps {
  db: Db;
  temporal: Client;
  /** The Temporal Web UI's address for people (config `web.temporalUiUrl`); unset: no link. */
  temporalUiUrl?: string;
  /** Where cycles started over the API run (the workers' task queue). */
  taskQueue?: string;
  decisionSigner?: DecisionSigner;
}

/**
 * The authenticated person and the API's signer that vouches for their decision. The body
 * carries only the decision's arguments: the services refuse one that names who decides.
 */
export function deciderOf(deps: { decisionSigner?: DecisionSigner }, principal: Principal): Decider {
  if (!deps.decisionSigner)
    throw new ServiceUnavailable(
      'This API has no decision signing key, so it cannot record approvals or rollout actions: set FLYWHEEL_DECISION_SIGNING_KEY (see README, "Signed decisions"). Nothing was changed.',
    );
  return { signer: deps.decisionSigner, principal };
}

const IdParam = z.object({ id: z.string() });

/**
 * Cycles over HTTP: list, status, start, and the approvers' decisions. An approval or
 * rejection names the authenticated person; the cycle's N-person rule counts people.
 */
export function cycleRoutes(deps: CycleRouteDeps, agents: ResourceAgents): ApiRoute[] {
  return [
    {
      method: 'GET',
      url: '/api/cycles',
      tag: 'cycles',
      summary: 'Cycles, newest first, with stage and outcome (?agent=).',
      auth: { role: 'viewer' },
      agent: agents.byAgentQuery,
      schema: { querystring: z.object({ agent: z.string().optional() }) },
      handler: async (r) => ({
        status: 200,
        body: { cycles: await listCycles(deps.temporal, r.query.get('agent') ?? undefined) },
      }),
    },
    {
      method: 'POST',
      url: '/api/cycles',
      tag: 'cycles',
      summary: 'Start a cycle for an agent now, with optional input overrides.',
      auth: { role: 'operator' },
      agentInBody: true,
      schema: {
        body: z.object({
          input: z.looseObject({ agent: z.string() }).describe('Cycle input: agent plus overrides'),
          id: z.string().optional(),
        }),
      },
      handler: async (r) => {
        const body = z
          .object({ input: z.looseObject({ agent: z.string().min(1) }), id: z.string().min(1).optional() })
          .safeParse(r.json());
        if (!body.success)
          throw new UserError(
            'Send { "input": { "agent": "<agent id>", …overrides }, "id"?: "<cycle id>" }.',
          );
        r.requireAgent(body.data.input.agent);
        const started = await startCycle(deps.temporal, {
          taskQueue: deps.taskQueue ?? 'flywheel',
          input: body.data.input,
          ...(body.data.id ? { workflowId: body.data.id } : {}),
        });
        return { status: 201, body: started };
      },
    },
    {
      method: 'GET',
      url: '/api/cycles/:id',
      tag: 'cycles',
      summary: "A cycle's live status: stage, stages so far, gate, approvals, outcome.",
      auth: { role: 'viewer' },
      agent: agents.byCycle,
      schema: { params: IdParam },
      handler: async (r) => ({ status: 200, body: await cycleStatus(deps.temporal, r.params.id ?? '') }),
    },
    {
      method: 'GET',
      url: '/api/cycles/:id/gate-report',
      tag: 'cycles',
      summary:
        "The cycle's full gate report (every assertion and slice) and the candidate/production prompt diff.",
      auth: { role: 'viewer' },
      agent: agents.byCycle,
      schema: { params: IdParam },
      handler: async (r) => ({ status: 200, body: await cycleGateReview(deps.db, r.params.id ?? '') }),
    },
    {
      method: 'GET',
      url: '/api/cycles/:id/optimization',
      tag: 'cycles',
      summary:
        "The cycle's optimizer progress: per run, the best score over rollouts, the baseline and the budget.",
      auth: { role: 'viewer' },
      agent: agents.byCycle,
      schema: { params: IdParam },
      handler: async (r) => ({ status: 200, body: await optimizationProgress(deps.db, r.params.id ?? '') }),
    },
    {
      method: 'GET',
      url: '/api/temporal-ui',
      tag: 'cycles',
      summary: "Where people open the Temporal Web UI (null: not configured), and the cycles' namespace.",
      auth: { role: 'viewer' },
      // No agent's data: anyone who may view some agent may read it.
      filtersToGrants: true,
      handler: () =>
        Promise.resolve({
          status: 200,
          body: { url: deps.temporalUiUrl ?? null, namespace: deps.temporal.options.namespace },
        }),
    },
    {
      method: 'POST',
      url: '/api/cycles/:id/approve',
      tag: 'cycles',
      summary: "Approve the gated candidate; counts toward the agent's N-person rule.",
      auth: { role: 'approver' },
      agent: agents.byCycle,
      schema: { params: IdParam, body: ApproveArgs },
      handler: async (r) => ({
        status: 200,
        body: await approveCycle(
          deps.temporal,
          r.params.id ?? '',
          r.raw.length === 0 ? {} : r.json(),
          deciderOf(deps, r.principal),
        ),
      }),
    },
    {
      method: 'POST',
      url: '/api/cycles/:id/reject',
      tag: 'cycles',
      summary: 'Reject the gated candidate with a reason; the cycle ends without rollout.',
      auth: { role: 'approver' },
      agent: agents.byCycle,
      schema: { params: IdParam, body: RejectArgs },
      handler: async (r) => ({
        status: 200,
        body: await rejectCycle(deps.temporal, r.params.id ?? '', r.json(), deciderOf(deps, r.principal)),
      }),
    },
  ];
}
