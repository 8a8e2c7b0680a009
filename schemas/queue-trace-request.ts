import { z } from 'zod';

/** `POST /api/queues/:id/items`: the trace a person adds to a queue; who adds it comes from authentication. */
export const AddTraceToQueueBody = z.strictObject({
  traceId: z
    .string({ error: 'traceId is required: the id of the trace to add (GET /api/traces lists them)' })
    .trim()
    .min(1, { error: 'traceId must not be empty' })
    .max(200, { error: 'traceId must be at most 200 characters' }),
});

/** The body as the service reads it: the route adds `addedBy` from the credentials. */
export const AddTraceToQueueRequest = AddTraceToQueueBody.extend({
  addedBy: z.string().min(1),
});
export type AddTraceToQueueRequest = z.infer<typeof AddTraceToQueueRequest>;
