import type { SlackMessage } from './slack-message.js';
import type { Db } from '../db/connection.js';
import { NotificationConfig } from '../schemas/notification-config.js';
import { createWebhookSender, type WebhookDelivery, type WebhookSender } from './webhook-sender.js';
import { recordNotification } from './store/notification-log.js';
import { storedAgentConfig } from '../registry/store/agent-repository.js';

let defaultSender: WebhookSender | undefined;

export type AgentNoticeDelivery = WebhookDelivery & { url: string | null };

/**
 * Sends a notice to the agent's webhook (if one is configured) and records the delivery in
 * `notifications`, delivered or not: a chat outage must never stop a cycle or undo a change,
 * but an operator must be able to see that a notice never arrived. Database errors still
 * throw (an activity retries); callers announcing a committed change catch them.
 */
export async function notifyAgent(
  db: Db,
  args: { agent: string; cycleId: string | null; message: SlackMessage },
  sender?: WebhookSender,
): Promise<AgentNoticeDelivery> {
  const config = await storedAgentConfig(db, args.agent);
  const parsed = NotificationConfig.safeParse(config?.notifications ?? {});
  const url = parsed.success ? (parsed.data.webhookUrl ?? null) : null;
  const delivery: WebhookDelivery = url
    ? await (sender ?? (defaultSender ??= createWebhookSender()))(url, args.message)
    : { delivered: false, status: null, error: 'no webhook configured for this agent' };
  await recordNotification(db, {
    agent_id: args.agent,
    cycle_id: args.cycleId,
    event: args.message.event,
    url,
    payload: JSON.stringify(args.message),
    delivered: delivery.delivered,
    status: delivery.status,
    error: delivery.error,
  });
  return { ...delivery, url };
}

/** For a change already committed: the announcement never throws. */
export async function announceToAgent(
  db: Db,
  agent: string,
  message: SlackMessage,
  sender?: WebhookSender,
): Promise<AgentNoticeDelivery> {
  try {
    return await notifyAgent(db, { agent, cycleId: null, message }, sender);
  } catch (e) {
    return { delivered: false, status: null, error: e instanceof Error ? e.message : String(e), url: null };
  }
}
