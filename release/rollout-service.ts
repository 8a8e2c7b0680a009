import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  type Client,
} from '@temporalio/client';
import type { UpdateDefinition } from '@temporalio/common';
import type { Db } from '../db/connection.js';
import { agentPromptVersion, labelledVersion } from '../registry/store/prompt-repository.js';
import { RolloutConfig } from '../schemas/rollout-config.js';
import type { RolloutState } from '../schemas/rollout-control.js';
import type { SignedDecision } from '../schemas/signed-decision.js';
import {
  abortRolloutUpdate,
  pauseRolloutUpdate,
  promoteRolloutUpdate,
  resumeRolloutUpdate,
  rolloutStatusQuery,
  setRolloutWeightUpdate,
} from '../workflows/messages.js';
import { rolloutWorkflow } from '../workflows/rollout-workflow.js';
import { manualRolloutWorkflowId, rolloutWorkflowId } from '../workflows/workflow-ids.js';
import { ConflictError, NotFoundError, UserError } from '../schemas/user-error.js';
import { decisionArgs, signDecision, updateRefused, type Decider } from './decision-signing-service.js';
import { formatIssues } from '../schemas/format-issues.js';
import type { CoachingSet } from '../schemas/coaching.js';
import { currentCoaching } from '../coaching/store/coaching-repository.js';

/** A cycle's ID stands for its rollout: operators know the cycle, the child ID is derived. */
export const rolloutIdFor = (id: string) =>
  id.startsWith('cycle-') && !id.endsWith('-rollout') ? rolloutWorkflowId(id) : id;

export async function rolloutState(client: Client, id: string): Promise<RolloutState> {
  try {
    return await client.workflow.getHandle(rolloutIdFor(id)).query(rolloutStatusQuery);
  } catch (error) {
    if (error instanceof WorkflowNotFoundError)
      throw new NotFoundError(`No rollout ${rolloutIdFor(id)}. A cycle's rollout starts after approval.`);
    throw error;
  }
}

type Action = 'promote' | 'pause' | 'resume' | 'abort' | 'setWeight';
const UPDATES = {
  promote: promoteRolloutUpdate,
  pause: pauseRolloutUpdate,
  resume: resumeRolloutUpdate,
  abort: abortRolloutUpdate,
  setWeight: setRolloutWeightUpdate,
} satisfies Record<Action, UpdateDefinition<RolloutState, [SignedDecision]>>;

/**
 * Sends a person's rollout action (`body`: `{ reason?, full? }`, `{ reason?, weight }` for
 * setWeight) as an Update carrying their signed decision: a refused action (promote while
 * progressing, a weight of 150, a signature the workers cannot verify) is answered with the
 * reason and changes nothing. `decider` is optional only until every caller passes the
 * authenticated person; without one the action is refused.
 */
export async function controlRollout(
  client: Client,
  id: string,
  action: Action,
  body: unknown,
  decider: Decider,
): Promise<RolloutState> {
  const { signer, principal } = decider;
  const args = decisionArgs(action, body);
  const workflowId = rolloutIdFor(id);
  const decision = signDecision(signer, principal, action, workflowId, args);
  try {
    return await client.workflow.getHandle(workflowId).executeUpdate(UPDATES[action], { args: [decision] });
  } catch (error) {
    if (error instanceof WorkflowUpdateFailedError) throw updateRefused(error);
    if (error instanceof WorkflowNotFoundError) throw new NotFoundError(`No running rollout ${workflowId}.`);
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
    /** A rollout configuration as given (a file's JSON, a request body), validated here. */
    config?: unknown;
    seed?: number;
    now?: Date;
    /** Minutes one attempt of a model-calling step may run (default 20): raise for a slow model server. */
    modelMinutes?: number;
    /**
     * 'candidates': the agent's candidate coaching rides with the version as its set (served to
     * the candidate's share, promoted on completion, retired on rollback).
     */
    coaching?: 'candidates';
  },
): Promise<{ workflowId: string; coaching: CoachingSet }> {
  const config = RolloutConfig.safeParse(options.config ?? {});
  if (!config.success) throw new UserError(`Invalid rollout configuration: ${formatIssues(config.error)}`);
  const production = await labelledVersion(db, options.agent, 'production');
  if (!production)
    throw new NotFoundError(`Agent ${options.agent} has no production prompt to roll out over.`);
  const candidate = await agentPromptVersion(db, options.agent, options.candidateVersion);
  if (!candidate)
    throw new NotFoundError(
      `Agent ${options.agent} has no prompt version ${options.candidateVersion}; list them with: flywheel prompt list`,
    );
  if (candidate.id === production.id)
    throw new UserError(`Version ${candidate.version} is already production; nothing to roll out.`);
  const set: CoachingSet =
    options.coaching === 'candidates'
      ? (await currentCoaching(db, options.agent, { status: 'candidate' })).map((c) => ({
          id: c.id,
          version: c.version,
        }))
      : [];
  if (options.coaching === 'candidates' && set.length === 0)
    throw new UserError(
      `Agent ${options.agent} has no candidate coaching to roll out with version ${candidate.version}: create some with \`flywheel coaching create ${options.agent} ... --candidate\`, or leave out --coaching.`,
    );
  const workflowId = manualRolloutWorkflowId(options.agent, (options.now ?? new Date()).toISOString());
  try {
    await client.workflow.start(rolloutWorkflow, {
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
          ...(set.length ? { coaching: set } : {}),
          config: config.data,
          createdBy: options.actor,
          seed: options.seed ?? 1,
          ...(options.modelMinutes === undefined
            ? {}
            : { modelTimeouts: { batchMinutes: options.modelMinutes } }),
        },
      ],
    });
  } catch (error) {
    if (error instanceof WorkflowExecutionAlreadyStartedError)
      throw new ConflictError(`A rollout with ID ${workflowId} already exists.`);
    throw error;
  }
  return { workflowId, coaching: set };
}
