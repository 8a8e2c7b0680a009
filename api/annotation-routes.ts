import { z } from 'zod';
import type { Client } from '@temporalio/client';
import type { Db } from '../db/connection.js';
import type { LlmRoles } from '../llm/llm-client.js';
import { suggestLabel } from '../annotation/label-suggestion-service.js';
import {
  annotateItem,
  claimAnnotationItem,
  listQueueItemSummaries,
  listQueueItems,
  showQueueItem,
  listQueues,
  releaseAnnotationItem,
  submitQueueBatch,
} from '../annotation/annotation-service.js';
import { annotationItems, submitAnnotations } from '../cycles/cycle-service.js';
import { queueDetails } from '../annotation/queue-details-service.js';
import { addTracesToQueue, addTraceToQueue } from '../annotation/queue-trace-service.js';
import { createScoreConfig, listScoreConfigs } from '../annotation/score-config-service.js';
import { AnnotationBatch, ItemAnnotationRequest } from '../schemas/annotation.js';
import {
  AddTracesToQueueBody,
  AddTraceToQueueBody,
  MAX_TRACES_PER_ADD,
} from '../schemas/queue-trace-request.js';
import { ScoreConfigInput } from '../schemas/score-config.js';
import { withIdentity, type ApiRoute, type RouteRequest } from './api-route.js';
import type { ResourceAgents } from './resource-agent.js';

export interface AnnotationRouteDeps {
  db: Db;
  temporal: Client;
  /** The teacher suggests labels; absent: items get no suggestion (and say why). */
  llm?: LlmRoles | null;
}

/** All stored: 200; some refused: 207 (multi-status, as Langfuse's batch ingestion answers). */
const batchStatus = (r: { errors: readonly unknown[] }) => (r.errors.length > 0 ? 207 : 200);

const IdParam = z.object({ id: z.string() });

/** Claim and release: the same route for the signed-in reviewer, on either service call. */
const CLAIM_ACTIONS = [
  {
    action: 'claim',
    summary: 'Claim an item for yourself until the claim expires.',
    run: claimAnnotationItem,
  },
  { action: 'release', summary: 'Give a claimed item back to the pool.', run: releaseAnnotationItem },
] as const;
const BatchBody = AnnotationBatch.omit({ reviewer: true });
/** The reviewer is who signed in: a person, so the label records their user name. */
const reviewer = (r: RouteRequest) => r.principal.id;

/**
 * The annotation queue API: queues, items, claims, labels (single and batch) and score
 * configs, plus the pre-queue cycle route kept for older clients. Labels and claims
 * record the authenticated reviewer.
 */
export function annotationRoutes(deps: AnnotationRouteDeps, agents: ResourceAgents): ApiRoute[] {
  return [
    {
      method: 'GET',
      url: '/api/queues',
      tag: 'annotation',
      summary: 'Annotation queues, newest first.',
      auth: { role: 'viewer' },
      agent: agents.byAgentQuery,
      schema: { querystring: z.object({ agent: z.string().optional() }) },
      handler: async (r) => ({
        status: 200,
        body: { queues: await listQueues(deps.db, r.query.get('agent') ?? undefined) },
      }),
    },
    {
      method: 'GET',
      url: '/api/queues/:id',
      tag: 'annotation',
      summary: "A queue (by its ID or its cycle's) with progress per reviewer and agreement.",
      auth: { role: 'viewer' },
      agent: agents.byQueue,
      schema: { params: IdParam },
      handler: async (r) => ({ status: 200, body: await queueDetails(deps.db, r.params.id ?? '') }),
    },
    {
      method: 'GET',
      url: '/api/queues/:id/items',
      tag: 'annotation',
      summary: "A queue's items, filtered by ?reviewer= and ?status=.",
      auth: { role: 'viewer' },
      agent: agents.byQueue,
      schema: {
        params: IdParam,
        querystring: z.object({ reviewer: z.string().optional(), status: z.string().optional() }),
      },
      handler: async (r) => {
        const filter = {
          ...(r.query.get('reviewer') ? { reviewer: r.query.get('reviewer') ?? '' } : {}),
          ...(r.query.get('status') ? { status: r.query.get('status') ?? '' } : {}),
        };
        return { status: 200, body: { items: await listQueueItems(deps.db, r.params.id ?? '', filter) } };
      },
    },
    {
      method: 'GET',
      url: '/api/queues/:id/item-summaries',
      tag: 'annotation',
      summary:
        "A queue's items without their traces (status, verdict, claims, labels, a short preview), filtered by ?reviewer= and ?status=: what a list of many items needs; GET /api/items/{id} has one in full.",
      auth: { role: 'viewer' },
      agent: agents.byQueue,
      schema: {
        params: IdParam,
        querystring: z.object({ reviewer: z.string().optional(), status: z.string().optional() }),
      },
      handler: async (r) => {
        const filter = {
          ...(r.query.get('reviewer') ? { reviewer: r.query.get('reviewer') ?? '' } : {}),
          ...(r.query.get('status') ? { status: r.query.get('status') ?? '' } : {}),
        };
        return {
          status: 200,
          body: { items: await listQueueItemSummaries(deps.db, r.params.id ?? '', filter) },
        };
      },
    },
    {
      method: 'GET',
      url: '/api/items/:id',
      tag: 'annotation',
      summary:
        "One annotation item with its redacted trace, its status, claims and labels, the label you stored on it (`yourLabel`, null when none), and the agent's tools with what each takes (`tools`), for an expected tool call.",
      auth: { role: 'viewer' },
      agent: agents.byItem,
      schema: { params: IdParam },
      handler: async (r) => ({
        status: 200,
        body: await showQueueItem(deps.db, r.params.id ?? '', r.principal.id),
      }),
    },
    {
      method: 'POST',
      url: '/api/queues/:id/items',
      tag: 'annotation',
      summary:
        "Add a trace of the queue's agent to an open queue: `{ traceId }` (201); who added it is recorded from your credentials.",
      auth: { role: 'reviewer' },
      agent: agents.byQueue,
      schema: { params: IdParam, body: AddTraceToQueueBody },
      handler: async (r) => ({
        status: 201,
        body: await addTraceToQueue(
          deps.db,
          r.params.id ?? '',
          withIdentity(r.json(), 'addedBy', r.principal.id),
        ),
      }),
    },
    {
      method: 'POST',
      url: '/api/queues/:id/items/batch',
      tag: 'annotation',
      summary: `Add up to ${MAX_TRACES_PER_ADD} traces of the queue's agent to an open queue at once: \`{ traceIds }\`. Each is added as one add would be; refused ones are reported by index with their reason and status, the others are added (200 all added, 207 some refused). Who added them is recorded from your credentials.`,
      auth: { role: 'reviewer' },
      agent: agents.byQueue,
      schema: { params: IdParam, body: AddTracesToQueueBody },
      handler: async (r) => {
        const result = await addTracesToQueue(
          deps.db,
          r.params.id ?? '',
          withIdentity(r.json(), 'addedBy', r.principal.id),
        );
        return { status: batchStatus(result), body: result };
      },
    },
    {
      method: 'POST',
      url: '/api/queues/:id/annotations',
      tag: 'annotation',
      summary:
        "A batch of labels; valid entries are stored and refused ones (an expected tool call the agent's tools do not accept among them) reported by index (207).",
      auth: { role: 'reviewer' },
      agent: agents.byQueue,
      schema: { params: IdParam, body: BatchBody },
      handler: async (r) => {
        const body = withIdentity(r.json(), 'reviewer', reviewer(r));
        const result = await submitQueueBatch(deps.db, deps.temporal, r.params.id ?? '', body);
        return { status: batchStatus(result), body: result };
      },
    },
    ...CLAIM_ACTIONS.map(({ action, summary, run }): ApiRoute => ({
      method: 'POST',
      url: `/api/items/:id/${action}`,
      tag: 'annotation',
      summary,
      auth: { role: 'reviewer' },
      agent: agents.byItem,
      schema: { params: IdParam, body: z.object({}) },
      handler: async (r) => ({
        status: 200,
        body: await run(deps.db, r.params.id ?? '', withIdentity(bodyOrEmpty(r), 'reviewer', reviewer(r))),
      }),
    })),
    {
      method: 'POST',
      url: '/api/items/:id/suggestion',
      tag: 'annotation',
      summary:
        "The teacher model's suggested label for the item (verdict, category, the step the agent should have taken, a one-sentence reason), asked the first time and kept: every reviewer sees the same one. It is only a suggestion: nothing is labelled until a reviewer submits a label. `suggestion` is null when no model answered usably in time, with the reason in `unavailable`; nothing is kept then, and the next call asks again.",
      auth: { role: 'reviewer' },
      agent: agents.byItem,
      schema: { params: IdParam, body: z.object({}) },
      handler: async (r) => ({
        status: 200,
        body: await suggestLabel(
          { db: deps.db, teacher: deps.llm?.teacher ?? null },
          r.params.id ?? '',
          reviewer(r),
        ),
      }),
    },
    {
      method: 'POST',
      url: '/api/items/:id/annotations',
      tag: 'annotation',
      summary:
        "Label one item: verdict, category, expected step or reply, comment, dimensions, scores. An expected tool call must name one of the agent's tools with arguments its parameters schema accepts (else 400 with `field`). Labelling an item you labelled before replaces your label while the queue is open.",
      auth: { role: 'reviewer' },
      agent: agents.byItem,
      schema: { params: IdParam, body: ItemAnnotationRequest.omit({ reviewer: true }) },
      handler: async (r) => ({
        status: 200,
        body: await annotateItem(
          deps.db,
          deps.temporal,
          r.params.id ?? '',
          withIdentity(r.json(), 'reviewer', reviewer(r)),
        ),
      }),
    },
    {
      method: 'GET',
      url: '/api/score-configs',
      tag: 'annotation',
      summary: 'Score configs (what reviewers fill per item besides the verdict).',
      auth: { role: 'viewer' },
      agent: agents.byAgentQuery,
      schema: {
        querystring: z.object({
          agent: z.string().optional(),
          archived: z.enum(['true', 'false']).optional(),
        }),
      },
      handler: async (r) => {
        const options = {
          ...(r.query.get('agent') ? { agent: r.query.get('agent') ?? '' } : {}),
          includeArchived: r.query.get('archived') === 'true',
        };
        return { status: 200, body: { scoreConfigs: await listScoreConfigs(deps.db, options) } };
      },
    },
    {
      method: 'POST',
      url: '/api/score-configs',
      tag: 'annotation',
      summary: 'Create a score config (numeric, categorical or boolean).',
      auth: { role: 'operator' },
      agentInBody: true,
      schema: { body: ScoreConfigInput },
      handler: async (r) => {
        const body = r.json();
        const agent = (body as { agent?: unknown } | null)?.agent;
        r.requireAgent(typeof agent === 'string' ? agent : null);
        return { status: 201, body: await createScoreConfig(deps.db, body) };
      },
    },
    {
      method: 'GET',
      url: '/api/cycles/:id/annotations',
      tag: 'annotation',
      summary: "A cycle's annotation items (the route from before queues).",
      auth: { role: 'viewer' },
      agent: agents.byCycle,
      schema: { params: IdParam },
      handler: async (r) => ({
        status: 200,
        body: { items: await annotationItems(deps.db, r.params.id ?? '') },
      }),
    },
    {
      method: 'POST',
      url: '/api/cycles/:id/annotations',
      tag: 'annotation',
      summary: "A batch of labels for a cycle's queue (the route from before queues).",
      auth: { role: 'reviewer' },
      agent: agents.byCycle,
      schema: { params: IdParam, body: BatchBody },
      handler: async (r) => {
        const result = await submitAnnotations(
          deps.db,
          deps.temporal,
          r.params.id ?? '',
          withIdentity(r.json(), 'reviewer', reviewer(r)),
        );
        return { status: batchStatus(result), body: result };
      },
    },
  ];
}

/** Claim and release need no body; an empty one is fine. */
function bodyOrEmpty(r: RouteRequest): unknown {
  return r.raw.length === 0 ? {} : r.json();
}
