import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  type Client,
} from '@temporalio/client';
import type { Db } from '../db/connection.js';
import { labelledVersion } from '../registry/store/prompt-repository.js';
import { RolloutConfig, type RolloutConfigArg } from '../schemas/rollout-config.js';
import {
  PromoteRequest,
  RolloutActionRequest,
  SetWeightRequest,
  type RolloutState,
} from '../schemas/rollout-control.js';
import {
  abortRolloutUpdate,
  pauseRolloutUpdate,
  promoteRolloutUpdate,
  resumeRolloutUpdate,
  rolloutStatusQuery,
  setRolloutWeightUpdate,
} from '../workflows/messages.js';
import { manualRolloutWorkflowId, rolloutWorkflowId } from '../workflows/workflow-ids.js';
import { UserError } from '../cycles/cycle-service.js';

const formatZod = (e: { issues: { path: PropertyKey[]; message: string }[] }) =>
  e.issues.map((i) => `${i.path.length ? i.path.join('.') : 'input'}: ${i.message}`).join('; ');

/** A cycle's ID stands for its rollout: operators know the cycle, the child ID is derived. */
export const rolloutIdFor = (id: string) =>
  id.startsWith('cycle-') && !id.endsWith('-rollout') ? rolloutWorkflowId(id) : id;

export async function rolloutState(client: Client, id: string): Promise<RolloutState> {
  try {
    return await client.workflow.getHandle(rolloutIdFor(id)).query(rolloutStatusQuery);
  } catch (error) {
    if (error instanceof WorkflowNotFoundError)
      throw new UserError(`No rollout ${rolloutIdFor(id)}. A cycle's rollout starts after approval.`, 404);
    throw error;
  }
}

type Action = 'promote' | 'pause' | 'resume' | 'abort' | 'setWeight';
const UPDATES = {
  promote: [promoteRolloutUpdate, PromoteRequest],
  pause: [pauseRolloutUpdate, RolloutActionRequest],
  resume: [resumeRolloutUpdate, RolloutActionRequest],
  abort: [abortRolloutUpdate, RolloutActionRequest],
  setWeight: [setRolloutWeightUpdate, SetWeightRequest],
} as const;

/**
 * Sends a human rollout action as a validated Update: a refused action (promote while
 * progressing, a weight of 150) is answered with the reason and changes nothing.
 */
export async function controlRollout(
  client: Client,
  id: string,
  action: Action,
  body: unknown,
): Promise<RolloutState> {
  const [update, schema] = UPDATES[action];
  const parsed = schema.safeParse(body);
  if (!parsed.success)
    throw new UserError(`Invalid ${action}: ${formatZod(parsed.error)}. Nothing was changed.`);
  try {
    return await client.workflow
      .getHandle(rolloutIdFor(id))
      .executeUpdate(update as typeof pauseRolloutUpdate, { args: [parsed.data as never] });
  } catch (error) {
    if (error instanceof WorkflowUpdateFailedError)
      throw new UserError(`${error.cause?.message ?? error.message} Nothing was changed.`, 409);
    if (error instanceof WorkflowNotFoundError)
      throw new UserError(`No running rollout ${rolloutIdFor(id)}.`, 404);
    throw error;
  }
}

/**
 * An operator's rollout of an existing prompt version outside a cycle (a hand-written fix,
 * or re-releasing a version after a rollback), with the same steps, analysis and rollback.
 */
export async function startManualRollout(
  client: Client,
  db: Db,
  options: {
    taskQueue: string;
    agent: string;
    candidateVersion: number;
    actor: string;
    config?: RolloutConfigArg;
    seed?: number;
    now?: Date;
  },
): Promise<{ workflowId: string }> {
  const config = RolloutConfig.safeParse(options.config ?? {});
  if (!config.success) throw new UserError(`Invalid rollout configuration: ${formatZod(config.error)}`);
  const production = await labelledVersion(db, options.agent, 'production');
  if (!production)
    throw new UserError(`Agent ${options.agent} has no production prompt to roll out over.`, 404);
  const candidate = await db
    .selectFrom('prompt_versions')
    .select(['id', 'version'])
    .where('agent_id', '=', options.agent)
    .where('version', '=', options.candidateVersion)
    .executeTakeFirst();
  if (!candidate)
    throw new UserError(
      `Agent ${options.agent} has no prompt version ${options.candidateVersion}; list them with: flywheel prompt list`,
      404,
    );
  if (candidate.id === production.id)
    throw new UserError(`Version ${candidate.version} is already production; nothing to roll out.`);
  const workflowId = manualRolloutWorkflowId(options.agent, (options.now ?? new Date()).toISOString());
  try {
    await client.workflow.start('rolloutWorkflow', {
      taskQueue: options.taskQueue,
      workflowId,
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
      staticSummary: `manual rollout of ${candidate.id} over ${production.id} by ${options.actor}`,
      args: [
        {
          rolloutId: workflowId,
          cycleId: null,
          agent: options.agent,
          decisionId: null,
          baselineVersionId: production.id,
          candidateVersionId: candidate.id,
          config: config.data,
          createdBy: options.actor,
          seed: options.seed ?? 1,
        },
      ],
    });
  } catch (error) {
    if (error instanceof WorkflowExecutionAlreadyStartedError)
      throw new UserError(`A rollout with ID ${workflowId} already exists.`, 409);
    throw error;
  }
  return { workflowId };
}
