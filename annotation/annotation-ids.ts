/** One queue per cycle, and one item per trace of it: ids a retried activity computes again. */
export const annotationQueueId = (cycleId: string) => `${cycleId}:queue`;
export const annotationItemId = (cycleId: string, traceId: string) => `${cycleId}:item:${traceId}`;
