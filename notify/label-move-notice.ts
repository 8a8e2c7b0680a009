import { labelMoveMessage, type LabelMove } from '../registry/label-move-message.js';
import type { Db } from '../db/connection.js';
import { announceToAgent, type AgentNoticeDelivery } from './agent-notice.js';
import type { WebhookSender } from './webhook-sender.js';

/** Announces a committed label move on the owning agent's webhook; never throws. */
export function announceLabelMove(
  db: Db,
  move: LabelMove,
  sender?: WebhookSender,
): Promise<AgentNoticeDelivery> {
  return announceToAgent(db, move.agent, labelMoveMessage(move), sender);
}
