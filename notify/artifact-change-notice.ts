import { artifactChangeMessage, type ArtifactChange } from '../registry/artifact-change-message.js';
import type { Db } from '../db/connection.js';
import { announceToAgent, type AgentNoticeDelivery } from './agent-notice.js';
import type { WebhookSender } from './webhook-sender.js';

export type ArtifactNoticeDelivery = AgentNoticeDelivery;

/** Announces a committed artifact change on the agent's webhook; never throws. */
export function announceArtifactChange(
  db: Db,
  change: ArtifactChange,
  sender?: WebhookSender,
): Promise<ArtifactNoticeDelivery> {
  return announceToAgent(db, change.agent, artifactChangeMessage(change), sender);
}
