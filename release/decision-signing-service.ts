import { createPrivateKey, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { ApplicationFailure, type WorkflowUpdateFailedError } from '@temporalio/client';
import type { Principal } from '../schemas/principal.js';
import {
  DECISION_ARGS,
  DECISION_TTL_SECONDS,
  DecisionKeyId,
  DecisionSigningKey,
  type DecisionAction,
  type DecisionArgs,
  type SignedDecision,
} from '../schemas/signed-decision.js';
import { ConflictError, ForbiddenError, UserError } from '../schemas/user-error.js';
import { formatIssues } from '../schemas/format-issues.js';
import { DECISION_REJECTED, fromBase64url, sealDecision, toBase64url } from './decision-signature.js';

/**
 * The API's half of signed decisions: it holds the private key and signs each human decision
 * for the person authentication established. Workers hold only public keys, so neither a
 * worker nor anyone with access to the Temporal namespace can make a decision the workflows
 * accept.
 */
export interface DecisionSigner {
  readonly kid: string;
  sign(message: Uint8Array): Uint8Array;
}

/** Who decides, as authentication established it, and the API's signer that vouches for them. */
export interface Decider {
  signer: DecisionSigner;
  principal: Principal;
}

/** PKCS#8 DER wrapping of a raw 32-byte Ed25519 seed (RFC 8410). */
const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

export function createDecisionSigner(key: DecisionSigningKey): DecisionSigner {
  const parsed = DecisionSigningKey.parse(key);
  const privateKey: KeyObject = createPrivateKey({
    key: Buffer.concat([PKCS8_ED25519_PREFIX, fromBase64url(parsed.privateKey)]),
    format: 'der',
    type: 'pkcs8',
  });
  return { kid: parsed.kid, sign: (message) => new Uint8Array(sign(null, message, privateKey)) };
}

/** A new key pair, base64url; `kid` defaults to `decision-<date>-<random>`. */
export function generateDecisionKey(
  kid?: string,
  now = new Date(),
): { kid: string; privateKey: string; publicKey: string } {
  const id = DecisionKeyId.parse(
    kid ?? `decision-${now.toISOString().slice(0, 10)}-${randomBytes(3).toString('hex')}`,
  );
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const d = privateKey.export({ format: 'jwk' }).d;
  const x = publicKey.export({ format: 'jwk' }).x;
  if (!d || !x) throw new Error('node:crypto returned an Ed25519 key without its JWK fields');
  return { kid: id, privateKey: d, publicKey: x };
}

/**
 * `principal`'s decision to `action` on the workflow `workflowId`, signed: valid for
 * DECISION_TTL_SECONDS from `now`, with a fresh nonce so it applies once. Only people
 * decide: an agent token is refused, and invalid arguments are refused before signing.
 */
export function signDecision<A extends DecisionAction>(
  signer: DecisionSigner,
  principal: Principal,
  action: A,
  workflowId: string,
  args: DecisionArgs<A>,
  now: Date = new Date(),
): SignedDecision {
  if (principal.kind !== 'user')
    throw new ForbiddenError(
      `Agent tokens cannot ${action}: approvals and rollout actions are made by people. Nothing was changed.`,
    );
  const parsed = DECISION_ARGS[action].safeParse(args);
  if (!parsed.success)
    throw new UserError(`Invalid ${action}: ${formatIssues(parsed.error)}. Nothing was changed.`);
  return sealDecision(
    {
      v: 1,
      kid: signer.kid,
      principal: { kind: 'user', id: principal.id },
      action,
      workflowId,
      args: parsed.data,
      issuedAt: now.toISOString(),
      expiresAt: new Date(now.getTime() + DECISION_TTL_SECONDS * 1000).toISOString(),
      nonce: toBase64url(randomBytes(18)),
    },
    (message) => signer.sign(message),
  );
}

/**
 * A request body as the arguments of `action`. The person deciding is whoever signed in, so
 * a body that names one (`approver`, `actor`) is refused rather than silently ignored.
 */
export function decisionArgs<A extends DecisionAction>(action: A, body: unknown): DecisionArgs<A> {
  const named =
    body !== null && typeof body === 'object' ? IDENTITY_FIELDS.find((f) => f in body) : undefined;
  if (named)
    throw new UserError(
      `A decision is made by the signed-in person; the request cannot name one. Remove "${named}" from the request. Nothing was changed.`,
    );
  const parsed = DECISION_ARGS[action].safeParse(body ?? {});
  if (!parsed.success)
    throw new UserError(`Invalid ${action}: ${formatIssues(parsed.error)}. Nothing was changed.`);
  return parsed.data as DecisionArgs<A>;
}

const IDENTITY_FIELDS = ['approver', 'actor', 'principal'];

/**
 * A decision the workflow's validator refused, as the caller's error: a signature it could
 * not verify (forged, expired, used before, signed with a key the workers lack) is a 403;
 * a decision the workflow cannot take now (wrong stage, already decided) a 409.
 */
export function updateRefused(error: WorkflowUpdateFailedError): UserError {
  const cause = error.cause;
  const message = `${cause?.message ?? error.message} Nothing was changed.`;
  return cause instanceof ApplicationFailure && cause.type === DECISION_REJECTED
    ? new ForbiddenError(message)
    : new ConflictError(message);
}
