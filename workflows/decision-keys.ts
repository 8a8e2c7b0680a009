import type { DecisionKeyring } from '../schemas/signed-decision.js';

/**
 * The public keys this worker verifies human decisions with. Workflow code cannot read the
 * environment or files, so the worker bakes its keyring into the workflow bundle
 * (workers/decision-keys-bundle.ts replaces this identifier at bundle time). Outside a bundle,
 * or in one built without keys, the keyring is empty and every decision is refused.
 */
declare const __FLYWHEEL_DECISION_KEYS__: DecisionKeyring | undefined;
export const DECISION_KEYS_CONSTANT = '__FLYWHEEL_DECISION_KEYS__';

export function decisionKeyring(): DecisionKeyring {
  return typeof __FLYWHEEL_DECISION_KEYS__ === 'undefined' ? {} : __FLYWHEEL_DECISION_KEYS__;
}
