import type { Db } from '../db/connection.js';
import type { FailureTaxonomy } from '../diagnosis/failure-taxonomy.js';
import type { LlmRoles } from '../llm/llm-client.js';
import type { WebhookSender } from '../notify/webhook-sender.js';

/** What every activity factory needs; tests pass the same shape with real services. */
export interface ActivityDeps {
  db: Db;
  llm: LlmRoles;
  /** Concurrent model calls per activity. */
  llmConcurrency: number;
  /** The failure taxonomy diagnosis classifies into, parsed (and validated) at worker start. */
  taxonomy: FailureTaxonomy;
  /** Posts Slack-compatible notices; tests pass a recorder. Absent: the real HTTP sender. */
  webhook?: WebhookSender;
}
