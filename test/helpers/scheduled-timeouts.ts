import type { Client } from '@temporalio/client';

/** Seconds of startToCloseTimeout of every scheduled activity of one workflow, by activity type. */
export async function scheduledTimeouts(client: Client, workflowId: string): Promise<Map<string, number[]>> {
  const out = new Map<string, number[]>();
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  for (const event of history.events ?? []) {
    const scheduled = event.activityTaskScheduledEventAttributes;
    if (!scheduled) continue;
    const type = scheduled.activityType?.name ?? '?';
    out.set(type, [...(out.get(type) ?? []), Number(scheduled.startToCloseTimeout?.seconds ?? 0)]);
  }
  return out;
}
