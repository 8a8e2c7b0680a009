import { z } from 'zod';

/**
 * Where an agent's human-facing notices go: annotation reminders and escalations, approval
 * requests, label moves and rollbacks. The payload is Slack-compatible (`text` + `blocks`),
 * so a Slack or Mattermost incoming webhook works as is.
 */
export const NotificationConfig = z.object({
  webhookUrl: z.url({ message: 'webhookUrl must be an http(s) URL' }).optional(),
});
export type NotificationConfig = z.infer<typeof NotificationConfig>;
