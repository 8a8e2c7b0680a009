import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hashPassword, parsePasswordHash, verifyPassword } from '../../registry/store/password-hash.js';
import { csrfTokenFor, csrfTokenMatches } from '../../registry/store/secrets.js';
import {
  allows,
  assertAllowed,
  capGrants,
  lowerRole,
  simplifyGrants,
  UserId,
  type Principal,
  type RoleGrant,
} from '../../schemas/principal.js';

const global = (role: RoleGrant['role']): RoleGrant => ({ role, agent: null });
const forAgent = (role: RoleGrant['role'], agent: string): RoleGrant => ({ role, agent });
const person = (grants: RoleGrant[]): Principal => ({
  kind: 'user',
  id: 'ana',
  grants,
  via: 'token',
  tokenId: 'utk_1',
});

describe('grants of a personal token', () => {
  it('lowers every grant to the token role and keeps lower ones', () => {
    assert.deepEqual(
      capGrants([global('admin'), forAgent('viewer', 'demo')], { role: 'reviewer', agent: null }),
      [global('reviewer')],
    );
    assert.deepEqual(
      capGrants([global('viewer'), forAgent('admin', 'demo')], { role: 'approver', agent: null }),
      [global('viewer'), forAgent('approver', 'demo')],
    );
  });

  it('narrows to the token agent: a global grant becomes a grant for that agent, other agents drop out', () => {
    const grants = [global('operator'), forAgent('admin', 'billing'), forAgent('approver', 'demo')];
    assert.deepEqual(capGrants(grants, { role: null, agent: 'demo' }), [forAgent('operator', 'demo')]);
    assert.deepEqual(capGrants(grants, { role: 'viewer', agent: 'billing' }), [
      forAgent('viewer', 'billing'),
    ]);
    assert.deepEqual(capGrants([forAgent('admin', 'billing')], { role: null, agent: 'demo' }), []);
  });

  it('without a cap the grants are the user grants, simplified', () => {
    assert.deepEqual(
      capGrants([forAgent('viewer', 'demo'), global('operator')], { role: null, agent: null }),
      [global('operator')],
    );
  });

  it('a token capped to one agent cannot change global state', () => {
    const capped = person(capGrants([global('admin')], { role: null, agent: 'demo' }));
    assert.equal(allows(capped, { role: 'admin' }, 'demo'), true);
    assert.equal(allows(capped, { role: 'admin' }), false);
    assert.equal(allows(capped, { role: 'operator' }, 'billing'), false);
    // Reading across agents needs a global grant too: the capped token reads demo's things only.
    assert.equal(allows(capped, { role: 'viewer' }), false);
    assert.equal(allows(capped, { role: 'viewer' }, 'demo'), true);
  });

  it('a token capped below a role is refused that role', () => {
    const capped = person(capGrants([global('admin')], { role: 'approver', agent: null }));
    assert.equal(allows(capped, { role: 'approver' }, 'demo'), true);
    assert.equal(allows(capped, { role: 'operator' }, 'demo'), false);
  });
});

describe('grant helpers', () => {
  it('simplifyGrants drops grants another implies, keeps the rest ordered globals first', () => {
    assert.deepEqual(
      simplifyGrants([
        forAgent('approver', 'zeta'),
        global('viewer'),
        forAgent('viewer', 'alpha'),
        forAgent('operator', 'alpha'),
        forAgent('approver', 'zeta'),
      ]),
      [global('viewer'), forAgent('operator', 'alpha'), forAgent('approver', 'zeta')],
    );
  });

  it('lowerRole picks the lower of two roles', () => {
    assert.equal(lowerRole('admin', 'reviewer'), 'reviewer');
    assert.equal(lowerRole('viewer', 'operator'), 'viewer');
  });

  it('assertAllowed names who was refused and what it needs', () => {
    assert.throws(
      () => assertAllowed(person([global('operator')]), { role: 'admin' }, null, 'create users'),
      (error: Error & { status?: number }) =>
        error.status === 403 &&
        /user:ana may not create users: that needs the admin role \(or higher\) globally/.test(error.message),
    );
    const agentToken: Principal = { kind: 'agent', id: 'tok_1', agent: 'demo', scopes: ['ingest'] };
    assert.throws(
      () => assertAllowed(agentToken, { role: 'viewer' }, 'demo', 'read'),
      /agent-token:tok_1 \(demo\)/,
    );
    assert.doesNotThrow(() =>
      assertAllowed(person([global('admin')]), { role: 'admin' }, null, 'create users'),
    );
  });

  it('user names are lower case, so one person cannot exist twice under two spellings', () => {
    assert.equal(UserId.safeParse('alice@example.com').success, true);
    assert.equal(UserId.safeParse('ana.lopez_2').success, true);
    assert.equal(UserId.safeParse('Alice').success, false);
    assert.equal(UserId.safeParse('').success, false);
    assert.equal(UserId.safeParse('-leading').success, false);
    assert.equal(UserId.safeParse('a b').success, false);
  });
});

describe('password hashes', () => {
  const cheap = { ln: 10, r: 8, p: 1 };

  it('are PHC scrypt strings that carry their parameters and a fresh salt', async () => {
    const a = await hashPassword('correct horse battery', cheap);
    const b = await hashPassword('correct horse battery', cheap);
    assert.match(a, /^\$scrypt\$ln=10,r=8,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
    assert.notEqual(a, b, 'each hash has its own salt');
    assert.deepEqual(parsePasswordHash(a)?.params, cheap);
  });

  it('the default parameters are the stored ones', async () => {
    assert.match(await hashPassword('x'.repeat(12)), /^\$scrypt\$ln=15,r=8,p=3\$/);
  });

  it('verify the right password and refuse a wrong one, a near miss, or no hash', async () => {
    const stored = await hashPassword('correct horse battery', cheap);
    assert.equal(await verifyPassword('correct horse battery', stored), true);
    assert.equal(await verifyPassword('correct horse batterY', stored), false);
    assert.equal(await verifyPassword('', stored), false);
    assert.equal(await verifyPassword('correct horse battery', null), false);
  });

  it('compare a password in the same Unicode form however it was typed', async () => {
    const stored = await hashPassword('caf\u00e9 au lait!', cheap);
    assert.equal(await verifyPassword('cafe\u0301 au lait!', stored), true);
  });

  it('refuse stored strings that are not theirs or ask for unbounded work', async () => {
    const stored = await hashPassword('pw', cheap);
    assert.equal(parsePasswordHash('plain text'), null);
    assert.equal(parsePasswordHash(stored.replace('ln=10', 'ln=30')), null);
    assert.equal(parsePasswordHash(stored.replace('p=1', 'p=99')), null);
    assert.equal(await verifyPassword('pw', stored.replace('ln=10', 'ln=30')), false);
    assert.equal(await verifyPassword('pw', stored.slice(0, -4)), false);
  });
});

describe('session CSRF tokens', () => {
  it('are derived from the session secret, differ between sessions and compare exactly', () => {
    const a = csrfTokenFor('fws_secret-a');
    assert.equal(csrfTokenFor('fws_secret-a'), a);
    assert.notEqual(csrfTokenFor('fws_secret-b'), a);
    assert.equal(csrfTokenMatches(a, a), true);
    assert.equal(csrfTokenMatches(a, `${a}x`), false);
    assert.equal(csrfTokenMatches(a, a.slice(0, -1) + (a.endsWith('A') ? 'B' : 'A')), false);
    assert.equal(csrfTokenMatches(a, undefined), false);
  });
});
