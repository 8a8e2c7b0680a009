// What the API answers, as the server declares it. The OpenAPI document describes requests
// (paths, parameters, bodies: schema.d.ts) but not yet most answers, so the answer types are
// imported from the services that produce them, type-only (erased from the bundle): a changed
// answer shape fails `npm run typecheck` here instead of a page at run time.
import type {
  listQueueItemSummaries,
  listQueues,
  showQueueItem,
} from '../../../annotation/annotation-service.js';
import type { annotateItem } from '../../../annotation/annotation-service.js';
import type { queueDetails } from '../../../annotation/queue-details-service.js';
import type { suggestLabel } from '../../../annotation/label-suggestion-service.js';
import type { ClaimResult } from '../../../annotation/store/annotation-writes.js';
import type { CycleListing } from '../../../cycles/cycle-service.js';
import type { AgentSummary } from '../../../registry/agent-service.js';
import type { RoleGrant } from '../../../schemas/principal.js';
import type { TraceDetail as ServerTraceDetail } from '../../../traces/trace-view.js';
import type { paths } from './schema.js';

/** A value as it arrives over JSON: dates are ISO strings. */
export type Json<T> = T extends Date
  ? string
  : T extends readonly (infer U)[]
    ? Json<U>[]
    : T extends object
      ? { [K in keyof T]: Json<T[K]> }
      : T;

export type Grant = RoleGrant;
export type Role = RoleGrant['role'];

/** GET /api/me for a person (the console signs in people only). */
export interface Me {
  kind: 'user';
  label: string;
  user: string;
  grants: Grant[];
  via: 'session' | 'token';
  session?: { id: string; csrfToken: string; expiresAt: string };
}

/** POST /api/session. */
export interface SignedIn {
  user: string;
  grants: Grant[];
  sessionId: string;
  csrfToken: string;
  expiresAt: string;
}

export type QueueSummary = Json<Awaited<ReturnType<typeof listQueues>>[number]>;
export type QueueDetails = Json<Awaited<ReturnType<typeof queueDetails>>>;
/** One item in full, with its redacted trace (GET /api/items/{id}). */
export type QueueItem = Json<Awaited<ReturnType<typeof showQueueItem>>>;
/** The label the signed-in reviewer stored on an item, which they may change while its queue is open. */
export type OwnLabel = NonNullable<QueueItem['yourLabel']>;
/** An item as a queue's list carries it: no trace, a short preview (GET /api/queues/{id}/item-summaries). */
export type QueueItemSummary = Json<Awaited<ReturnType<typeof listQueueItemSummaries>>[number]>;
export type ScoreConfig = QueueDetails['scoreConfigs'][number];
export type Claim = Json<ClaimResult>;
export type StoredLabel = Json<Awaited<ReturnType<typeof annotateItem>>>;
/** POST /api/items/{id}/suggestion: the teacher's suggested label, or why there is none. */
export type SuggestionAnswer = Json<Awaited<ReturnType<typeof suggestLabel>>>;
export type LabelSuggestion = NonNullable<SuggestionAnswer['suggestion']>;
export type TraceDetail = Json<ServerTraceDetail>;
export type ChatMessage = TraceDetail['transcript']['messages'][number];
export type CycleSummary = Json<CycleListing>;
export type Agent = Json<AgentSummary>;

/** The label body POST /api/items/{id}/annotations accepts, from the OpenAPI document. */
export type LabelBody =
  paths['/api/items/{id}/annotations']['post']['requestBody']['content']['application/json'];
export type Category = NonNullable<LabelBody['category']>;
export type AgentAction = NonNullable<LabelBody['expected']>;
