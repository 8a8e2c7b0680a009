import type { SlackMessage } from '../core/slack-message.js';
import { AgentConfig } from '../schemas/agent-config.js';
import { createWebhookSender, type WebhookDelivery } from '../notify/webhook-sender.js';
import type { ActivityDeps } from './activity-deps.js';

/**
 * Sends a notice to the agent's webhook (if one is configured) and records the delivery in
 * `notifications`, delivered or not: a chat outage must never stop a cycle, but an operator
 * must be able to see that a reminder never arrived.
 */
export async function notifyAgent(
  deps: Pick<ActivityDeps, 'db' | 'webhook'>,
  args: { agent: string; cycleId: string | null; message: SlackMessage },
): Promise<WebhookDelivery & { url: string | null }> {
  const row = await deps.db
    .selectFrom('agents')
    .select('config')
    .where('id', '=', args.agent)
    .executeTakeFirst();
  const parsed = AgentConfig.safeParse(row?.config ?? {});
  const url = parsed.success ? (parsed.data.notifications.webhookUrl ?? null) : null;
  const delivery: WebhookDelivery = url
    ? await (deps.webhook ?? createWebhookSender())(url, args.message)
    : { delivered: false, status: null, error: 'no webhook configured for this agent' };
  await deps.db
    .insertInto('notifications')
    .values({
      agent_id: args.agent,
      cycle_id: args.cycleId,
      event: args.message.event,
      url,
      payload: JSON.stringify(args.message),
      delivered: delivery.delivered,
      status: delivery.status,
      error: delivery.error,
    })
    .execute();
  return { ...delivery, url };
}
