import { ApplicationFailure } from '@temporalio/common';
import type { Db } from '../db/connection.js';
import { agentConfig } from '../registry/store/agent-repository.js';
import type { AgentConfig } from '../schemas/agent-config.js';
import { FailureType } from '../schemas/failure-types.js';
import { UserError } from '../schemas/user-error.js';

/**
 * agentConfig for activities: an unknown agent fails the activity for good (InvalidInput),
 * since retrying cannot make the agent appear. Other errors keep their retry behaviour.
 */
export async function activityAgentConfig(db: Db, agent: string): Promise<AgentConfig> {
  try {
    return await agentConfig(db, agent);
  } catch (e) {
    if (e instanceof UserError) throw ApplicationFailure.nonRetryable(e.message, FailureType.InvalidInput);
    throw e;
  }
}
