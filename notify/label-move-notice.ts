import { labelMoveMessage, type LabelMove } from '../core/label-move-message.js';
import type { Db } from '../db/connection.js';
import { NotificationConfig } from '../schemas/notification-config.js';
import { createWebhookSender, type WebhookDelivery, type WebhookSender } from './webhook-sender.js';

let defaultSender: WebhookSender | undefined;

/**
 * Announces a committed label move on the owning agent's webhook and records the delivery
 * in `notifications` (as activities/agent-notifier.ts does for cycle notices). Nothing here
 * throws: the move already happened, and a chat outage must not turn it into an error.
 */
export async function announceLabelMove(
  db: Db,
  move: LabelMove,
  sender?: WebhookSender,
): Promise<WebhookDelivery & { url: string | null }> {
  try {
    const row = await db
      .selectFrom('agents')
      .select('config')
      .where('id', '=', move.agent)
      .executeTakeFirst();
    const parsed = NotificationConfig.safeParse(row?.config.notifications ?? {});
    const url = parsed.success ? (parsed.data.webhookUrl ?? null) : null;
    const message = labelMoveMessage(move);
    const delivery: WebhookDelivery = url
      ? await (sender ?? (defaultSender ??= createWebhookSender()))(url, message)
      : { delivered: false, status: null, error: 'no webhook configured for this agent' };
    await db
      .insertInto('notifications')
      .values({
        agent_id: move.agent,
        cycle_id: null,
        event: message.event,
        url,
        payload: JSON.stringify(message),
        delivered: delivery.delivered,
        status: delivery.status,
        error: delivery.error,
      })
      .execute();
    return { ...delivery, url };
  } catch (e) {
    return { delivered: false, status: null, error: e instanceof Error ? e.message : String(e), url: null };
  }
}
