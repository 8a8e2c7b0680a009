import assert from 'node:assert/strict';
import { mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ed25519 } from '@noble/curves/ed25519.js';
import fc from 'fast-check';
import {
  fromBase64url,
  readDecision,
  sealDecision,
  toBase64url,
  verifyDecision,
} from '../../release/decision-signature.js';
import {
  createDecisionSigner,
  decisionArgs,
  generateDecisionKey,
  signDecision,
} from '../../release/decision-signing-service.js';
import { ForbiddenError, UserError } from '../../schemas/user-error.js';
import { DECISION_KEY_FILE, loadConfig } from '../../scripts/load-config.js';
import { ensureDecisionKeyFile } from '../../scripts/decision-key-file.js';
import { ApprovalRules } from '../../workflows/approval-rules.js';
import {
  forgedAs,
  person,
  TEST_DECISION_KEY,
  TEST_DECISION_KEYS,
  testSigner,
  untrustedAs,
} from '../helpers/test-decision-keys.js';

const cycle = 'cycle-demo-2026-12-07';
const issued = new Date('2026-12-07T10:00:00.000Z');
const at = (secondsAfterIssue: number) => issued.getTime() + secondsAfterIssue * 1000;
const approve = (who = 'alice', workflowId = cycle, now = issued) =>
  signDecision(testSigner, person(who), 'approve', workflowId, { comment: 'ship it' }, now);
const verifyApproval = (signed: unknown, now = at(1)) =>
  verifyDecision(signed, TEST_DECISION_KEYS, { workflowId: cycle, action: 'approve', now });

describe('signed decisions', () => {
  it("base64url round-trips any bytes and matches Node's encoding", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), (bytes) => {
        const text = toBase64url(bytes);
        assert.equal(text, Buffer.from(bytes).toString('base64url'));
        assert.deepEqual(fromBase64url(text), bytes);
      }),
    );
    assert.throws(() => fromBase64url('ab+c'), /not base64url/);
    assert.throws(() => fromBase64url('abcde'), /impossible length/);
  });

  it('verifies what the API signed: the person, the action, its arguments and the key', () => {
    const d = verifyApproval(approve());
    assert.deepEqual(d.principal, { kind: 'user', id: 'alice' });
    assert.equal(d.action, 'approve');
    assert.deepEqual(d.args, { comment: 'ship it' });
    assert.equal(d.kid, 'flywheel-test');
    assert.equal(d.issuedAt, '2026-12-07T10:00:00.000Z');
    assert.equal(d.expiresAt, '2026-12-07T10:05:00.000Z', 'valid for five minutes');
  });

  it('agrees with node:crypto both ways: the API signs with Node, workers verify with noble', () => {
    const key = generateDecisionKey('k1');
    const keyring = { k1: key.publicKey };
    const payload = JSON.parse(approve().payload) as Parameters<typeof sealDecision>[0];
    const byNode = sealDecision({ ...payload, kid: 'k1' }, (m) => createDecisionSigner(key).sign(m));
    const byNoble = sealDecision({ ...payload, kid: 'k1' }, (m) =>
      ed25519.sign(m, fromBase64url(key.privateKey)),
    );
    assert.equal(byNode.signature, byNoble.signature, 'Ed25519 is deterministic');
    const expect = { workflowId: cycle, action: 'approve' as const, now: at(1) };
    assert.equal(verifyDecision(byNode, keyring, expect).principal.id, 'alice');
    assert.equal(ed25519.getPublicKey(fromBase64url(key.privateKey)).length, 32);
  });

  it('signs the exact JSON text that travels, including names outside ASCII', () => {
    const signed = signDecision(testSigner, person('zoë'), 'approve', cycle, { comment: '承認 ✓' }, issued);
    assert.equal(verifyApproval(signed).args.comment, '承認 ✓');
    assert.equal(verifyApproval(JSON.parse(JSON.stringify(signed))).principal.id, 'zoë');
  });

  it('refuses a payload altered after signing', () => {
    const signed = approve('bob');
    const altered = signed.payload.replace('"id":"bob"', '"id":"alice"');
    assert.notEqual(altered, signed.payload);
    assert.throws(
      () => verifyApproval({ ...signed, payload: altered }),
      /signature of this decision does not match key "flywheel-test": it was altered or not signed by the Flywheel API/,
    );
    // Re-serializing the same object differently is also a different message.
    const respaced = JSON.stringify(JSON.parse(signed.payload), null, 1);
    assert.throws(() => verifyApproval({ ...signed, payload: respaced }), /does not match/);
  });

  it("refuses a signature by another key under the trusted key's id (a forgery)", () => {
    const forged = signDecision(forgedAs('alice').signer, person('alice'), 'approve', cycle, {}, issued);
    assert.throws(() => verifyApproval(forged), /does not match key "flywheel-test"/);
  });

  it('refuses a key the worker does not trust, naming it and the keys it trusts', () => {
    const signed = signDecision(untrustedAs('alice').signer, person('alice'), 'approve', cycle, {}, issued);
    assert.throws(
      () => verifyApproval(signed),
      /signed with key "not-trusted", which this worker does not trust \(it trusts flywheel-test\)\. Add the key's public half to FLYWHEEL_DECISION_VERIFY_KEYS and restart the workers\./,
    );
    assert.throws(
      () => verifyDecision(approve(), {}, { workflowId: cycle, action: 'approve', now: at(1) }),
      /it has no decision keys/,
    );
  });

  it('refuses an expired decision, one dated in the future, and one valid for too long', () => {
    assert.equal(verifyApproval(approve(), at(300)).principal.id, 'alice', 'valid until it expires');
    assert.throws(
      () => verifyApproval(approve(), at(301)),
      /This decision expired at 2026-12-07T10:05:00.000Z \(workflow time 2026-12-07T10:05:01.000Z\): decide again\./,
    );
    assert.equal(
      verifyApproval(approve(), at(-60)).principal.id,
      'alice',
      'a minute of clock skew is allowed',
    );
    assert.throws(
      () => verifyApproval(approve(), at(-61)),
      /is dated 2026-12-07T10:00:00.000Z, in the future/,
    );
    const payload = JSON.parse(approve().payload) as Parameters<typeof sealDecision>[0];
    const forever = sealDecision({ ...payload, expiresAt: '2027-12-07T10:00:00.000Z' }, (m) =>
      testSigner.sign(m),
    );
    assert.throws(() => verifyApproval(forever), /no decision may be valid for more than 15 minutes/);
  });

  it("refuses another workflow's decision and a decision for another action", () => {
    assert.throws(
      () => verifyApproval(approve('alice', 'cycle-demo-2026-11-30')),
      /signed for cycle-demo-2026-11-30, not cycle-demo-2026-12-07/,
    );
    const reject = signDecision(testSigner, person('alice'), 'reject', cycle, { reason: 'no' }, issued);
    assert.throws(() => verifyApproval(reject), /signed as "reject" and cannot be used to approve/);
  });

  it('refuses an unsigned request and a malformed envelope, saying how decisions are made', () => {
    assert.throws(
      () => verifyApproval({ approver: 'alice', comment: 'hi' }),
      /This approve is not signed\. Approvals and rollout actions are made through the Flywheel API/,
    );
    assert.throws(
      () => verifyApproval({ payload: '{}', signature: 'x' }),
      /Malformed signed decision: signature/,
    );
    assert.throws(
      () => verifyApproval({ payload: 'not json', signature: approve().signature }),
      /the payload is not JSON/,
    );
  });

  it("refuses signed arguments off the action's schema", () => {
    const payload = JSON.parse(
      signDecision(testSigner, person('olga'), 'setWeight', cycle, { weight: 10 }, issued).payload,
    ) as Parameters<typeof sealDecision>[0];
    const signed = sealDecision({ ...payload, args: { weight: 150 } }, (m) => testSigner.sign(m));
    assert.throws(
      () =>
        verifyDecision(signed, TEST_DECISION_KEYS, { workflowId: cycle, action: 'setWeight', now: at(1) }),
      /Invalid setWeight: args.weight: weight must be between 0 and 100/,
    );
  });

  it('reads a decision for a handler without keys or clock, and an unsigned one as null', () => {
    const d = readDecision(approve(), 'approve');
    assert.equal(d?.principal.id, 'alice');
    assert.equal(
      readDecision({ approver: 'alice' }, 'approve'),
      null,
      'the shape of histories before signing',
    );
  });

  it('gives every decision its own nonce', () => {
    const nonces = new Set(
      Array.from({ length: 50 }, () => (JSON.parse(approve().payload) as { nonce: string }).nonce),
    );
    assert.equal(nonces.size, 50);
  });

  it('signs for people only, and refuses arguments before signing', () => {
    assert.throws(
      () =>
        signDecision(
          testSigner,
          { kind: 'agent', id: 'tok_1', agent: 'demo', scopes: ['ingest'] },
          'approve',
          cycle,
          {},
        ),
      (e: unknown) => e instanceof ForbiddenError && /Agent tokens cannot approve/.test(e.message),
    );
    assert.throws(
      () => signDecision(testSigner, person('olga'), 'setWeight', cycle, { weight: 150 }),
      (e: unknown) => e instanceof UserError && /weight must be between 0 and 100/.test(e.message),
    );
  });

  it('takes the person from authentication: a request body naming one is refused', () => {
    assert.deepEqual(decisionArgs('approve', { comment: 'ok' }), { comment: 'ok' });
    assert.deepEqual(decisionArgs('promote', undefined), { full: false });
    for (const field of ['approver', 'actor'])
      assert.throws(
        () => decisionArgs('approve', { [field]: 'mallory' }),
        new RegExp(`Remove "${field}" from the request\\. Nothing was changed\\.`),
      );
    assert.throws(() => decisionArgs('reject', { reason: ' ' }), /a rejection needs a reason/);
  });
});

describe('the N-person rule over verified people', () => {
  it('counts one person once however often they approve, and records them by principal', () => {
    const rules = new ApprovalRules(cycle, 'demo');
    rules.policy = { approvers: [], requiredApprovals: 2 };
    rules.check('awaiting_approval', 'alice');
    rules.add({ approver: 'alice', actor: 'user:alice', decision: 'approved', comment: null });
    rules.recorded();
    assert.throws(() => rules.check('awaiting_approval', 'alice'), /alice already approved this release/);
    assert.equal(rules.decided(), false, 'one person is not two approvals');
    rules.check('awaiting_approval', 'bob');
    rules.add({ approver: 'bob', actor: 'user:bob', decision: 'approved', comment: null });
    rules.recorded();
    assert.deepEqual(rules.decide(true, 60), {
      decision: 'approved',
      by: 'user:alice, user:bob',
      comment: null,
    });
  });
});

describe('decision key configuration', () => {
  const home = () => mkdtempSync(path.join(tmpdir(), 'flywheel-decisions-'));

  it('reads the signing key from the environment and verifies with its public half too', () => {
    const api = generateDecisionKey('api-2026');
    const old = generateDecisionKey('api-2025');
    const { decisions } = loadConfig(
      {
        FLYWHEEL_DECISION_SIGNING_KEY: `${api.kid}:${api.privateKey}`,
        FLYWHEEL_DECISION_VERIFY_KEYS: ` ${old.kid}:${old.publicKey},\n${api.kid}:${api.publicKey} `,
      },
      home(),
    );
    assert.deepEqual(decisions.signing, { kid: 'api-2026', privateKey: api.privateKey });
    assert.deepEqual(decisions.verify, { 'api-2025': old.publicKey, 'api-2026': api.publicKey });
    assert.equal(decisions.source, 'FLYWHEEL_DECISION_SIGNING_KEY');
  });

  it('gives a worker only public keys when only FLYWHEEL_DECISION_VERIFY_KEYS is set', () => {
    const { decisions } = loadConfig(
      { FLYWHEEL_DECISION_VERIFY_KEYS: `${TEST_DECISION_KEY.kid}:${TEST_DECISION_KEYS['flywheel-test']}` },
      home(),
    );
    assert.equal(decisions.signing, null);
    assert.deepEqual(decisions.verify, TEST_DECISION_KEYS);
  });

  it('refuses malformed keys without echoing key material', () => {
    const secret = 'c2VjcmV0LWtleS1tYXRlcmlhbC10aGF0LWlzLXdyb25n';
    for (const [env, message] of [
      [{ FLYWHEEL_DECISION_SIGNING_KEY: secret }, /entry 1 is not <key id>:<private key>/],
      [{ FLYWHEEL_DECISION_SIGNING_KEY: `k:${secret}` }, /key "k" is not an Ed25519 private key/],
      [
        {
          FLYWHEEL_DECISION_VERIFY_KEYS: `k:${TEST_DECISION_KEYS['flywheel-test']},k:${TEST_DECISION_KEYS['flywheel-test']}`,
        },
        /key id "k" appears twice/,
      ],
    ] as const) {
      assert.throws(
        () => loadConfig(env, home()),
        (e: unknown) => e instanceof Error && message.test(e.message) && !e.message.includes(secret),
      );
    }
    const api = generateDecisionKey('api');
    const other = generateDecisionKey('api');
    assert.throws(
      () =>
        loadConfig(
          {
            FLYWHEEL_DECISION_SIGNING_KEY: `api:${api.privateKey}`,
            FLYWHEEL_DECISION_VERIFY_KEYS: `api:${other.publicKey}`,
          },
          home(),
        ),
      /gives key "api" a public key that is not the one of the signing key/,
    );
  });

  it('generates the local key once, owner-only, and every later process reads it', () => {
    const dir = home();
    const file = path.join(dir, '.flywheel', DECISION_KEY_FILE);
    const first = ensureDecisionKeyFile(file, issued);
    assert.equal(first.created, true);
    assert.equal(first.key.kid, 'local-20261207');
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const again = ensureDecisionKeyFile(file, new Date());
    assert.deepEqual(again, { key: first.key, created: false }, 'never replaced');
    const { decisions } = loadConfig({}, dir);
    assert.deepEqual(decisions.signing, first.key);
    assert.equal(decisions.source, file);
    assert.deepEqual(Object.keys(decisions.verify), ['local-20261207']);
    writeFileSync(file, '# nothing\n');
    assert.throws(() => loadConfig({}, dir), /must hold exactly one <key id>:<private key> \(it holds 0\)/);
  });
});
