import {
  createDecisionSigner,
  generateDecisionKey,
  type Decider,
  type DecisionSigner,
} from '../../release/decision-signing-service.js';
import { decisionPublicKey } from '../../release/decision-signature.js';
import type { Principal } from '../../schemas/principal.js';
import type { DecisionKeyring, DecisionSigningKey } from '../../schemas/signed-decision.js';

/**
 * The decision key every test worker trusts and every test decision is signed with, as the
 * API signs for the person who signed in. A fixed key, so one workflow bundle per process
 * serves every test worker.
 */
export const TEST_DECISION_KEY: DecisionSigningKey = {
  kid: 'flywheel-test',
  privateKey: 'npsaVkg0uJ7aQTsMxIdYNPESM65f9uLNKP3Dgd8tqhY',
};
export const TEST_DECISION_KEYS: DecisionKeyring = {
  [TEST_DECISION_KEY.kid]: decisionPublicKey(TEST_DECISION_KEY.privateKey),
};

export const testSigner: DecisionSigner = createDecisionSigner(TEST_DECISION_KEY);

/** A person signed in with the approver role everywhere. */
export const person = (id: string): Principal => ({
  kind: 'user',
  id,
  grants: [{ role: 'approver', agent: null }],
  via: 'token',
});

/** `id` deciding through the API: signed with the test key the workers trust. */
export function asPerson(id: string): Decider {
  return { signer: testSigner, principal: person(id) };
}

/** `id` as a forger would sign: the trusted key's id, another private key. */
export function forgedAs(id: string): Decider {
  const { privateKey } = generateDecisionKey();
  return { signer: createDecisionSigner({ kid: TEST_DECISION_KEY.kid, privateKey }), principal: person(id) };
}

/** `id` signed with a well-formed key the workers were never given. */
export function untrustedAs(id: string): Decider {
  const { privateKey } = generateDecisionKey();
  return { signer: createDecisionSigner({ kid: 'not-trusted', privateKey }), principal: person(id) };
}
