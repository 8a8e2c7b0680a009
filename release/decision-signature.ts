import { ed25519 } from '@noble/curves/ed25519.js';
import {
  DECISION_ARGS,
  DECISION_CLOCK_SKEW_SECONDS,
  DecisionPayload,
  MAX_DECISION_LIFETIME_SECONDS,
  SignedDecision,
  type DecisionAction,
  type Decision,
  type DecisionKeyring,
} from '../schemas/signed-decision.js';
import { formatIssues } from '../schemas/format-issues.js';

/**
 * Signing and verifying human decisions (Ed25519). Pure and free of Node built-ins: the
 * workflow's Update validators verify inside Temporal's sandbox, where node:crypto does not
 * exist, with the audited pure-JS @noble/curves; the API signs with any Ed25519
 * implementation (node:crypto), as the signatures are the same.
 */

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const VALUE = new Map([...ALPHABET].map((c, i) => [c, i]));

/** Bytes as base64url without padding (Buffer does not exist in workflow code). */
export function toBase64url(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
    const chars = Math.min(4, Math.ceil(((bytes.length - i) * 8) / 6));
    for (let k = 0; k < chars; k++) out += ALPHABET[(n >> (18 - 6 * k)) & 63];
  }
  return out;
}

/** base64url without padding back to bytes; throws on any other character or a length no encoding has. */
export function fromBase64url(text: string): Uint8Array {
  if (text.length % 4 === 1) throw new Error('not base64url: impossible length');
  const out = new Uint8Array(Math.floor((text.length * 6) / 8));
  let bits = 0;
  let acc = 0;
  let j = 0;
  for (const c of text) {
    const v = VALUE.get(c);
    if (v === undefined) throw new Error(`not base64url: "${c}"`);
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[j++] = (acc >> bits) & 255;
    }
  }
  return out;
}

const utf8 = (text: string) => new TextEncoder().encode(text);

/** The public key of a private seed (both base64url). */
export function decisionPublicKey(privateKey: string): string {
  return toBase64url(ed25519.getPublicKey(fromBase64url(privateKey)));
}

/** The signed form of `payload`: its JSON text, and `sign` applied to that text's UTF-8 bytes. */
export function sealDecision(payload: Decision, sign: (message: Uint8Array) => Uint8Array): SignedDecision {
  const text = JSON.stringify(payload);
  return { payload: text, signature: toBase64url(sign(utf8(text))) };
}

/** The error name a refused decision reaches the caller with (the Update failure's type). */
export const DECISION_REJECTED = 'DecisionRejected';

/** Why a decision was refused; the message says what to do. */
export class DecisionRejected extends Error {
  override name = DECISION_REJECTED;
}

const HOW_TO_DECIDE =
  'Approvals and rollout actions are made through the Flywheel API, which signs them for the signed-in person.';

/** The envelope and its payload, not yet verified; null when `raw` is no signed decision at all. */
function parse(raw: unknown): { signed: SignedDecision; payload: DecisionPayload } | null {
  const envelope = SignedDecision.safeParse(raw);
  if (!envelope.success) {
    if (raw !== null && typeof raw === 'object' && ('payload' in raw || 'signature' in raw))
      throw new DecisionRejected(`Malformed signed decision: ${formatIssues(envelope.error)}.`);
    return null;
  }
  let json: unknown;
  try {
    json = JSON.parse(envelope.data.payload);
  } catch {
    throw new DecisionRejected('Malformed signed decision: the payload is not JSON.');
  }
  const payload = DecisionPayload.safeParse(json);
  if (!payload.success)
    throw new DecisionRejected(`Malformed signed decision: ${formatIssues(payload.error)}.`);
  return { signed: envelope.data, payload: payload.data };
}

/** The payload as a decision to `action`, its arguments checked against the action's schema. */
function as<A extends DecisionAction>(payload: DecisionPayload, action: A): Decision<A> {
  if (payload.action !== action)
    throw new DecisionRejected(
      `This decision is signed as "${payload.action}" and cannot be used to ${action}.`,
    );
  const args = DECISION_ARGS[action].safeParse(payload.args);
  if (!args.success)
    throw new DecisionRejected(`Invalid ${action}: ${formatIssues(args.error, { at: ['args'] })}.`);
  return { ...payload, action, args: args.data as Decision<A>['args'] };
}

/**
 * The decision an Update carries, read without checking its signature: what a handler uses
 * once its validator verified it (a handler must act on the content alone, so that replay,
 * which skips validators, takes the same path). Null for an argument that is not a signed
 * decision at all: the unsigned shape of histories recorded before decisions were signed.
 */
export function readDecision<A extends DecisionAction>(raw: unknown, action: A): Decision<A> | null {
  const parsed = parse(raw);
  return parsed && as(parsed.payload, action);
}

export interface DecisionExpectation<A extends DecisionAction> {
  /** The workflow the Update was sent to. */
  workflowId: string;
  /** The Update's action. */
  action: A;
  /** Milliseconds since the epoch: workflow time in a validator. */
  now: number;
}

/**
 * The verified decision, or DecisionRejected saying why not: unsigned, signed by a key the
 * keyring lacks, a signature that does not match (forged or altered), another workflow's or
 * another action's decision, expired, dated in the future, or valid for longer than any
 * decision may be. Whether its nonce was used before is the workflow's to check.
 */
export function verifyDecision<A extends DecisionAction>(
  raw: unknown,
  keyring: DecisionKeyring,
  expect: DecisionExpectation<A>,
): Decision<A> {
  const parsed = parse(raw);
  if (!parsed) throw new DecisionRejected(`This ${expect.action} is not signed. ${HOW_TO_DECIDE}`);
  const { signed, payload } = parsed;
  const publicKey = keyring[payload.kid];
  if (publicKey === undefined) {
    const known = Object.keys(keyring);
    throw new DecisionRejected(
      `This decision is signed with key "${payload.kid}", which this worker does not trust (${known.length ? `it trusts ${known.join(', ')}` : 'it has no decision keys'}). Add the key's public half to FLYWHEEL_DECISION_VERIFY_KEYS and restart the workers.`,
    );
  }
  if (!signatureMatches(signed, publicKey))
    throw new DecisionRejected(
      `The signature of this decision does not match key "${payload.kid}": it was altered or not signed by the Flywheel API. ${HOW_TO_DECIDE}`,
    );
  const d = as(payload, expect.action);
  if (d.workflowId !== expect.workflowId)
    throw new DecisionRejected(`This decision was signed for ${d.workflowId}, not ${expect.workflowId}.`);
  const issued = Date.parse(d.issuedAt);
  const expires = Date.parse(d.expiresAt);
  if (expires - issued > MAX_DECISION_LIFETIME_SECONDS * 1000 || expires < issued)
    throw new DecisionRejected(
      `This decision is valid from ${d.issuedAt} to ${d.expiresAt}; no decision may be valid for more than ${MAX_DECISION_LIFETIME_SECONDS / 60} minutes.`,
    );
  if (issued > expect.now + DECISION_CLOCK_SKEW_SECONDS * 1000)
    throw new DecisionRejected(
      `This decision is dated ${d.issuedAt}, in the future (workflow time ${new Date(expect.now).toISOString()}): check the API's clock.`,
    );
  if (expect.now > expires)
    throw new DecisionRejected(
      `This decision expired at ${d.expiresAt} (workflow time ${new Date(expect.now).toISOString()}): decide again.`,
    );
  return d;
}

function signatureMatches(signed: SignedDecision, publicKey: string): boolean {
  try {
    return ed25519.verify(fromBase64url(signed.signature), utf8(signed.payload), fromBase64url(publicKey), {
      zip215: false,
    });
  } catch {
    return false;
  }
}
