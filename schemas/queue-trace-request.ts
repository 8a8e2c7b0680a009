import { z } from 'zod';

const TraceId = z
  .string({ error: 'traceId is required: the id of the trace to add (GET /api/traces lists them)' })
  .trim()
  .min(1, { error: 'traceId must not be empty' })
  .max(200, { error: 'traceId must be at most 200 characters' });

/** `POST /api/queues/:id/items`: the trace a person adds to a queue; who adds it comes from authentication. */
export const AddTraceToQueueBody = z.strictObject({ traceId: TraceId });

/** The body as the service reads it: the route adds `addedBy` from the credentials. */
export const AddTraceToQueueRequest = AddTraceToQueueBody.extend({
  addedBy: z.string().min(1),
});
export type AddTraceToQueueRequest = z.infer<typeof AddTraceToQueueRequest>;

/** At most this many traces in one `POST /api/queues/:id/items/batch`. */
export const MAX_TRACES_PER_ADD = 200;

const traceIdsError = `traceIds must be a list of 1 to ${MAX_TRACES_PER_ADD} trace ids, e.g. {"traceIds": ["t-1", "t-2"]}`;

/** `POST /api/queues/:id/items/batch`: several traces at once, each added or refused on its own. */
export const AddTracesToQueueBody = z.strictObject({
  traceIds: z
    .array(TraceId, { error: traceIdsError })
    .min(1, { error: traceIdsError })
    .max(MAX_TRACES_PER_ADD, { error: traceIdsError }),
});

/**
 * The batch as the service reads it: the list is checked as a whole (its size), each entry
 * on its own with `TraceId`, so one bad id is reported by its index and the others are added.
 */
export const AddTracesToQueueRequest = z.strictObject({
  traceIds: z
    .array(z.unknown(), { error: traceIdsError })
    .min(1, { error: traceIdsError })
    .max(MAX_TRACES_PER_ADD, { error: traceIdsError }),
  addedBy: z.string().min(1),
});
export const TraceIdToAdd = TraceId;
