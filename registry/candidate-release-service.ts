import type { Db } from '../db/connection.js';
import type { PromptVersion } from '../db/database.js';
import { candidateComponentTexts, candidatePromptText } from '../optimization/store/candidate-repository.js';
import { PromptConfig } from '../schemas/prompt.js';
import { agentConfig } from './store/agent-repository.js';
import { createVersion, versionById } from './store/prompt-repository.js';
import { moveLabel } from './label-move-service.js';
import {
  changedComponents,
  describeChanges,
  shippedFormOfCandidate,
  shippedFormOfVersion,
  versionOfCandidate,
} from './shipped-prompt.js';

/**
 * How an optimizer candidate becomes a release: everything the gate evaluated (system
 * prompt, demos, tool descriptions) as one immutable version of the agent's prompt, labelled
 * `candidate`. The plan is read first, so the gate can refuse a candidate that ships exactly
 * what production serves before it spends a model call on it.
 */

export interface CandidateReleasePlan {
  agent: string;
  candidateId: string;
  production: { id: string; version: number };
  /** Components whose shipped text differs from production's (`system`, `demos`, `tool:<name>`); empty: nothing to release. */
  changed: string[];
  /** The version to register: the system component as the prompt, the rest in its config. */
  prompt: string;
  config: PromptConfig;
}

export async function planCandidateRelease(
  db: Db,
  args: { agent: string; candidateId: string; productionVersionId: string },
): Promise<CandidateReleasePlan> {
  const [components, agent, production] = await Promise.all([
    candidateComponentTexts(db, args.candidateId),
    agentConfig(db, args.agent),
    versionById(db, args.productionVersionId),
  ]);
  const productionConfig = PromptConfig.parse(production.config);
  // A candidate made outside an optimizer has only its rendered system prompt.
  const texts = components ?? { system: await candidatePromptText(db, args.candidateId) };
  const shipped = shippedFormOfCandidate(texts, agent.tools);
  const serving = shippedFormOfVersion({ text: production.text, config: productionConfig }, agent.tools);
  return {
    agent: args.agent,
    candidateId: args.candidateId,
    production: { id: production.id, version: production.version },
    changed: changedComponents(shipped, serving),
    ...versionOfCandidate(texts, agent.tools, productionConfig),
  };
}

/**
 * Registers the plan as a new version and points `candidate` at it (audited and announced).
 * Idempotent per candidate: a retried gate finds the version it created. Refuses a plan
 * that changes nothing: the caller must not release production as its own candidate.
 */
export async function releaseCandidate(
  db: Db,
  plan: CandidateReleasePlan,
  reason: string,
  /**
   * Candidate coaching released with the version. A set alone (the prompt unchanged) still
   * gets a version of its own: a rollout tells its two shares apart by the version traces
   * carry, and recall serves the set to the candidate version's conversations.
   */
  coachingSet = 0,
): Promise<PromptVersion> {
  if (plan.changed.length === 0 && coachingSet === 0)
    throw new Error(
      `Candidate ${plan.candidateId} ships exactly what production ${plan.production.id} serves; there is nothing to release.`,
    );
  const what =
    plan.changed.length === 0
      ? `the prompt of v${plan.production.version} unchanged`
      : `${describeChanges(plan.changed)} changed from v${plan.production.version}`;
  const coaching = coachingSet === 0 ? '' : `, with a set of ${coachingSet} candidate coaching`;
  const { version } = await createVersion(db, {
    name: plan.agent,
    agent: plan.agent,
    type: 'text',
    prompt: plan.prompt,
    config: plan.config,
    createdBy: 'flywheel',
    commitMessage: `optimizer candidate ${plan.candidateId}: ${what}${coaching}`,
    source: 'optimizer',
    candidateId: plan.candidateId,
  });
  await moveLabel(db, plan.agent, 'candidate', version.id, 'flywheel', reason);
  return version;
}
