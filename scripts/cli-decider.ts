import type { AppConfig } from '../schemas/config.js';
import { createDecisionSigner, type Decider } from '../release/decision-signing-service.js';
import { UserError } from '../schemas/user-error.js';

/**
 * TRANSITIONAL, until `flywheel approve|reject|rollout …` call the HTTP API (which signs for
 * the authenticated person): the CLI signs the decision itself, for the person named with
 * --approver / --actor, with the configured signing key or the one `flywheel dev` generated
 * into the Flywheel home. Only someone who can read that key can do this (on a local stack,
 * its owner), and the key, not the name, is what the workers trust.
 */
export function cliDecider(config: AppConfig, person: string): Decider {
  const key = config.decisions.signing;
  if (!key)
    throw new UserError(
      `No decision signing key: start the local stack once with \`npm start\` (it generates ${config.decisions.keyFile}) or set FLYWHEEL_DECISION_SIGNING_KEY.`,
    );
  const id = person.trim();
  if (!id) throw new UserError('Say who decides: --approver <name> (or --actor <name>).');
  return { signer: createDecisionSigner(key), principal: { kind: 'user', id, grants: [], via: 'token' } };
}
