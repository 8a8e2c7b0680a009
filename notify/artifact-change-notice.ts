import { artifactChangeMessage, type ArtifactChange } from '../core/artifact-change-message.js';
import type { Db } from '../db/connection.js';
import { NotificationConfig } from '../schemas/notification-config.js';
import { createWebhookSender, type WebhookDelivery, type WebhookSender } from './webhook-sender.js';

let defaultSender: WebhookSender | undefined;

export type ArtifactNoticeDelivery = WebhookDelivery & { url: string | null };

/**
 * Announces a committed artifact change on the agent's webhook and records the delivery in
 * `notifications`. Never throws: the change already happened, and a chat outage must not
 * turn it into an error or undo it.
 */
export async function announceArtifactChange(
  db: Db,
  change: ArtifactChange,
  sender?: WebhookSender,
): Promise<ArtifactNoticeDelivery> {
  try {
    const row = await db
      .selectFrom('agents')
      .select('config')
      .where('id', '=', change.agent)
      .executeTakeFirst();
    const parsed = NotificationConfig.safeParse(row?.config.notifications ?? {});
    const url = parsed.success ? (parsed.data.webhookUrl ?? null) : null;
    const message = artifactChangeMessage(change);
    const delivery: WebhookDelivery = url
      ? await (sender ?? (defaultSender ??= createWebhookSender()))(url, message)
      : { delivered: false, status: null, error: 'no webhook configured for this agent' };
    await db
      .insertInto('notifications')
      .values({
        agent_id: change.agent,
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
