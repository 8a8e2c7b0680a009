import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Db } from '../../db/connection.js';
import * as principalsMigration from '../../db/migrations/0019-principals.js';
import { ensureAgent } from '../../registry/agent-service.js';
import { createAgentToken } from '../../registry/agent-token-service.js';
import { LoginThrottle, TooManyAttemptsError } from '../../registry/login-throttle.js';
import {
  createPrincipalVerifier,
  PrincipalVerifier,
  SESSION_IDLE_MS,
} from '../../registry/principal-service.js';
import { createSession, csrfTokenMatches, revokeSession } from '../../registry/session-service.js';
import {
  createUserToken,
  listTokens,
  loginForToken,
  revokeToken,
} from '../../registry/user-token-service.js';
import {
  createUser,
  disableUser,
  enableUser,
  ensureFirstAdmin,
  grantRole,
  listUsers,
  revokeRole,
  setPassword,
} from '../../registry/user-service.js';
import type { Principal } from '../../schemas/principal.js';
import { cliPrincipal, credentialsPath } from '../../scripts/cli-credentials.js';
import { CliContext } from '../../scripts/cli-context.js';
import { runLogin, runLogout } from '../../scripts/user-commands.js';
import { startMigratedDatabase } from '../helpers/local-infrastructure.js';

const BOB_PASSWORD = 'bob-has-a-long-password';
const CAROL_PASSWORD = 'carol-has-a-long-password';
const GENERIC = /^Wrong user name or password\.$/;

describe('people: users, grants, personal tokens and sessions', () => {
  let database: { db: Db; url: string; teardown(): Promise<void> };
  let db: Db;
  let admin: Principal;
  let adminPassword = '';
  const home = mkdtempSync(path.join(tmpdir(), 'flywheel-principals-'));
  /** A verifier without a cache: every check reads the database. */
  const fresh = (now?: () => number) => new PrincipalVerifier(db, { ttlMs: 0, ...(now ? { now } : {}) });
  /** The grants a bearer token acts with now, or null when it opens nothing. */
  const grantsOfToken = async (token: string) => {
    const principal = await fresh().verifyBearer(token);
    return principal?.kind === 'user' ? principal.grants : null;
  };
  const signIn = async (user: string, password: string) =>
    (await createSession(db, user, password, { now: new Date() })).principal;
  const auditRows = (artifact: string) =>
    db
      .selectFrom('audit_log')
      .select(['actor', 'action', 'detail'])
      .where('artifact', 'like', `${artifact}%`)
      .orderBy('id')
      .execute();
  /** Asserts `promise` rejects with a UserError of `status` whose message matches. */
  const rejects = (promise: Promise<unknown>, status: number, message: RegExp) =>
    assert.rejects(promise, (error: Error & { status?: number }) => {
      assert.equal(error.status, status, error.message);
      assert.match(error.message, message);
      return true;
    });

  before(async () => {
    database = await startMigratedDatabase('flywheel-principals');
    db = database.db;
    await ensureAgent(db, 'demo');
    await ensureAgent(db, 'billing');
  });
  after(async () => {
    await database?.teardown();
    rmSync(home, { recursive: true, force: true });
  });

  it('migration 0019 gives agent tokens made before it the resolve scope', async () => {
    await principalsMigration.down(db);
    const old = await createAgentToken(db, { agent: 'demo', scopes: ['ingest'], createdBy: 'test' });
    await principalsMigration.up(db);
    const row = await db
      .selectFrom('agent_tokens')
      .select('scopes')
      .where('id', '=', old.id)
      .executeTakeFirstOrThrow();
    assert.deepEqual(row.scopes, ['ingest', 'resolve']);
    assert.deepEqual(await fresh().verifyBearer(old.token), {
      kind: 'agent',
      id: old.id,
      agent: 'demo',
      scopes: ['ingest', 'resolve'],
    });
  });

  it('the first start creates one admin, once, even when two processes start together', async () => {
    const results = await Promise.all([ensureFirstAdmin(db), ensureFirstAdmin(db)]);
    const created = results.filter((r) => r !== null);
    assert.equal(created.length, 1);
    assert.equal(created[0]!.user, 'admin');
    assert.ok(created[0]!.password.length >= 20);
    adminPassword = created[0]!.password;
    assert.equal(await ensureFirstAdmin(db), null, 'a later start creates nothing and prints no password');
    const users = await listUsers(db);
    assert.deepEqual(
      users.map((u) => [u.id, u.grants]),
      [['admin', [{ role: 'admin', agent: null }]]],
    );
    assert.deepEqual(
      (await auditRows('user:admin')).map((r) => [r.actor, r.action]),
      [['system:first-start', 'user.create']],
    );
    admin = await signIn('admin', adminPassword);
    assert.deepEqual(admin, {
      kind: 'user',
      id: 'admin',
      grants: [{ role: 'admin', agent: null }],
      via: 'session',
    });
  });

  it('an admin creates users with grants, and the audit row names the admin', async () => {
    const bob = await createUser(
      db,
      { id: 'bob', displayName: 'Bob', password: BOB_PASSWORD, grants: [{ role: 'operator', agent: null }] },
      admin,
    );
    assert.deepEqual(bob.grants, [{ role: 'operator', agent: null }]);
    assert.equal(bob.hasPassword, true);
    await createUser(
      db,
      { id: 'carol', password: CAROL_PASSWORD, grants: [{ role: 'approver', agent: 'demo' }] },
      admin,
    );
    await createUser(db, { id: 'ci-bot', grants: [{ role: 'viewer', agent: null }] }, admin);
    const listed = await listUsers(db);
    assert.deepEqual(
      listed.map((u) => [u.id, u.hasPassword, u.grants]),
      [
        ['admin', true, [{ role: 'admin', agent: null }]],
        ['bob', true, [{ role: 'operator', agent: null }]],
        ['carol', true, [{ role: 'approver', agent: 'demo' }]],
        ['ci-bot', false, [{ role: 'viewer', agent: null }]],
      ],
    );
    const audit = await auditRows('user:bob');
    assert.deepEqual(
      audit.map((r) => [r.actor, r.action]),
      [['user:admin', 'user.create']],
    );
    assert.equal(
      JSON.stringify(audit[0]!.detail).includes(BOB_PASSWORD),
      false,
      'no password in the audit log',
    );
    const stored = await db
      .selectFrom('users')
      .select('password_hash')
      .where('id', '=', 'bob')
      .executeTakeFirstOrThrow();
    assert.match(stored.password_hash!, /^\$scrypt\$ln=15,r=8,p=3\$/);
  });

  it('refuses to create a user without the admin role, twice, with a bad name or an unknown agent', async () => {
    const bob = await signIn('bob', BOB_PASSWORD);
    await rejects(createUser(db, { id: 'eve', grants: [] }, bob), 403, /user:bob may not create users/);
    await rejects(createUser(db, { id: 'bob', grants: [] }, admin), 409, /exists already/);
    await rejects(createUser(db, { id: 'Eve', grants: [] }, admin), 400, /lower-case/);
    await rejects(createUser(db, { id: 'eve', password: 'short', grants: [] }, admin), 400, /at least 12/);
    await rejects(
      createUser(db, { id: 'eve', grants: [{ role: 'viewer', agent: 'nobody' }] }, admin),
      404,
      /Unknown agent "nobody"/,
    );
    assert.equal(
      (await listUsers(db)).some((u) => u.id === 'eve'),
      false,
      'nothing was stored',
    );
  });

  it('grants and revokes roles; a per-agent admin manages only their agent', async () => {
    const added = await grantRole(db, { user: 'carol', role: 'viewer', agent: null }, admin);
    assert.equal(added.added, true);
    assert.deepEqual(added.grants, [
      { role: 'viewer', agent: null },
      { role: 'approver', agent: 'demo' },
    ]);
    assert.equal((await grantRole(db, { user: 'carol', role: 'viewer', agent: null }, admin)).added, false);
    await rejects(
      revokeRole(db, { user: 'carol', role: 'operator', agent: null }, admin),
      404,
      /carol does not hold operator \(global\)/,
    );
    assert.equal((await revokeRole(db, { user: 'carol', role: 'viewer', agent: null }, admin)).removed, true);

    await grantRole(db, { user: 'bob', role: 'admin', agent: 'billing' }, admin);
    const bob = await signIn('bob', BOB_PASSWORD);
    assert.equal(
      (await grantRole(db, { user: 'carol', role: 'reviewer', agent: 'billing' }, bob)).added,
      true,
    );
    await rejects(
      grantRole(db, { user: 'carol', role: 'reviewer', agent: 'demo' }, bob),
      403,
      /needs the admin role \(or higher\) for agent "demo"/,
    );
    await rejects(grantRole(db, { user: 'carol', role: 'viewer', agent: null }, bob), 403, /globally/);
    assert.deepEqual(
      (await auditRows('user:carol')).map((r) => [r.actor, r.action]),
      [
        ['user:admin', 'user.create'],
        ['user:admin', 'user.grant'],
        ['user:admin', 'user.revoke-role'],
        ['user:bob', 'user.grant'],
      ],
    );
  });

  it('never leaves the deployment without an active global admin', async () => {
    await rejects(disableUser(db, 'admin', admin), 409, /would leave no active global admin/);
    await rejects(
      revokeRole(db, { user: 'admin', role: 'admin', agent: null }, admin),
      409,
      /would leave no active global admin/,
    );
    assert.deepEqual((await listUsers(db)).find((u) => u.id === 'admin')?.grants, [
      { role: 'admin', agent: null },
    ]);
  });

  it('a personal token acts as its user, capped by its role and agent', async () => {
    const verifier = createPrincipalVerifier(db);
    const full = await createUserToken(db, { user: 'bob', label: 'laptop' }, admin);
    assert.match(full.token, /^fwu_[A-Za-z0-9_-]{43}$/);
    assert.deepEqual(await verifier.verifyBearer(full.token), {
      kind: 'user',
      id: 'bob',
      grants: [
        { role: 'operator', agent: null },
        { role: 'admin', agent: 'billing' },
      ],
      via: 'token',
      tokenId: full.id,
    });
    const viewer = await createUserToken(db, { user: 'bob', role: 'viewer' }, admin);
    assert.deepEqual(await grantsOfToken(viewer.token), [{ role: 'viewer', agent: null }]);
    const demoOnly = await createUserToken(db, { user: 'bob', agent: 'demo' }, admin);
    assert.deepEqual(await grantsOfToken(demoOnly.token), [{ role: 'operator', agent: 'demo' }]);
    assert.deepEqual(demoOnly.grants, [{ role: 'operator', agent: 'demo' }]);
    // Only the hash is stored.
    const rows = await db.selectFrom('user_tokens').select('token_sha256').execute();
    assert.equal(
      rows.some((r) => r.token_sha256.includes(full.token)),
      false,
    );
    await rejects(
      createUserToken(db, { user: 'carol', role: 'operator', agent: 'demo' }, admin),
      400,
      /carol does not hold operator for demo/,
    );
    assert.equal(await verifier.verifyBearer('fwu_not-a-token'), null);
    assert.equal(await verifier.verifyBearer('fw_demo_not-a-token'), null);
  });

  it('a token cannot make a wider one, and people make tokens only for themselves unless admin', async () => {
    const narrow = await createUserToken(db, { user: 'bob', role: 'reviewer', agent: 'billing' }, admin);
    const asNarrow = (await fresh().verifyBearer(narrow.token))!;
    const made = await createUserToken(db, { user: 'bob' }, asNarrow);
    assert.deepEqual([made.role, made.agent], ['reviewer', 'billing']);
    assert.deepEqual(await grantsOfToken(made.token), [{ role: 'reviewer', agent: 'billing' }]);
    await rejects(
      createUserToken(db, { user: 'bob', agent: 'demo' }, asNarrow),
      403,
      /acts only for billing/,
    );
    const bob = await signIn('bob', BOB_PASSWORD);
    await rejects(createUserToken(db, { user: 'carol' }, bob), 403, /may not create tokens for carol/);
    const carolTokens = await listTokens(db, { user: 'carol' }, admin);
    assert.equal(carolTokens.length, 0);
    await rejects(listTokens(db, { user: 'carol' }, bob), 403, /only their own tokens/);
    assert.ok((await listTokens(db, {}, bob)).every((t) => t.user === 'bob'));
  });

  it('a revoked, expired or disabled user’s token opens nothing', async () => {
    const verifier = createPrincipalVerifier(db);
    const token = await createUserToken(db, { user: 'carol' }, admin);
    assert.equal((await verifier.verifyBearer(token.token))?.id, 'carol');
    const carol = await signIn('carol', CAROL_PASSWORD);
    await rejects(
      revokeToken(db, token.id, await signIn('bob', BOB_PASSWORD)),
      403,
      /revoke the tokens of carol/,
    );
    assert.equal(await revokeToken(db, token.id, carol, { verifier }), true);
    assert.equal(await verifier.verifyBearer(token.token), null, 'the revoking process forgets it at once');
    assert.equal(await revokeToken(db, token.id, carol), false);

    const expiring = await createUserToken(
      db,
      { user: 'carol', expiresAt: new Date(Date.now() + 3_600_000) },
      admin,
    );
    assert.equal((await fresh().verifyBearer(expiring.token))?.id, 'carol');
    assert.equal(await fresh(() => Date.now() + 2 * 3_600_000).verifyBearer(expiring.token), null);

    const another = await createUserToken(db, { user: 'carol' }, admin);
    const session = await createSession(db, 'carol', CAROL_PASSWORD, { now: new Date() });
    assert.equal(await disableUser(db, 'carol', admin), true);
    assert.equal(await fresh().verifyBearer(another.token), null);
    assert.equal(await fresh().verifySession(session.secret), null);
    await rejects(createSession(db, 'carol', CAROL_PASSWORD, { now: new Date() }), 401, GENERIC);
    assert.equal(await enableUser(db, 'carol', admin), true);
    assert.equal(
      (await fresh().verifyBearer(another.token))?.id,
      'carol',
      'enabled again, the token counts again',
    );
    assert.equal(await fresh().verifySession(session.secret), null, 'disabling ended the session for good');
    assert.deepEqual(
      (await auditRows('user:carol')).slice(-2).map((r) => [r.actor, r.action]),
      [
        ['user:admin', 'user.disable'],
        ['user:admin', 'user.enable'],
      ],
    );
    assert.deepEqual(
      (await auditRows(`user:carol/token:${token.id}`)).map((r) => [r.actor, r.action]),
      [
        ['user:admin', 'user-token.create'],
        ['user:carol', 'user-token.revoke'],
      ],
    );
  });

  it('sessions: created from a password, verified with a CSRF token, revoked, expired and idle', async () => {
    const now = Date.now();
    const created = await createSession(db, 'bob', BOB_PASSWORD, {
      now: new Date(now),
      ip: '192.0.2.7',
      userAgent: 'test',
    });
    assert.match(created.secret, /^fws_/);
    assert.match(created.sessionId, /^ses_[0-9a-f]{12}$/);
    const verified = await fresh(() => now + 1000).verifySession(created.secret);
    assert.equal(verified?.principal.id, 'bob');
    assert.equal(verified?.principal.via, 'session');
    assert.equal(verified?.sessionId, created.sessionId);
    assert.equal(csrfTokenMatches(verified.csrfToken, created.csrfToken), true);
    assert.equal(await fresh().verifySession(`${created.secret}x`), null);
    assert.equal(await fresh().verifyBearer(created.secret), null, 'a session secret is no bearer token');
    assert.equal(await fresh(() => now + 13 * 3_600_000).verifySession(created.secret), null, 'expired');
    assert.equal(
      await fresh(() => now + SESSION_IDLE_MS + 61_000).verifySession(created.secret),
      null,
      'idle',
    );

    const verifier = createPrincipalVerifier(db);
    assert.ok(await verifier.verifySession(created.secret));
    const bob = verified.principal;
    await rejects(
      revokeSession(db, created.sessionId, await signIn('carol', CAROL_PASSWORD)),
      403,
      /sessions of bob/,
    );
    assert.equal(await revokeSession(db, created.sessionId, bob, { verifier }), true);
    assert.equal(await verifier.verifySession(created.secret), null);
    const row = await db
      .selectFrom('sessions')
      .selectAll()
      .where('id', '=', created.sessionId)
      .executeTakeFirstOrThrow();
    assert.notEqual(row.secret_sha256, created.secret);
    assert.equal(row.ip, '192.0.2.7');
    assert.deepEqual(
      (await auditRows(`user:bob/session:${created.sessionId}`)).map((r) => [r.actor, r.action]),
      [
        ['user:bob', 'session.create'],
        ['user:bob', 'session.revoke'],
      ],
    );
  });

  it('a failed sign-in says one thing, whatever was wrong, and the throttle stops guessing', async () => {
    await rejects(createSession(db, 'bob', 'not-bobs-password', { now: new Date() }), 401, GENERIC);
    await rejects(createSession(db, 'nobody', 'whatever-password', { now: new Date() }), 401, GENERIC);
    await rejects(createSession(db, 'ci-bot', 'no-password-set', { now: new Date() }), 401, GENERIC);
    await rejects(createSession(db, 'NOT A NAME', 'whatever', { now: new Date() }), 401, GENERIC);
    await rejects(
      loginForToken(db, { user: 'bob', password: 'wrong-password' }, { now: new Date() }),
      401,
      GENERIC,
    );

    const throttle = new LoginThrottle({
      user: { maxFailures: 2, windowMs: 60_000, baseLockMs: 30_000, maxLockMs: 60_000 },
      ip: { maxFailures: 10, windowMs: 60_000, baseLockMs: 30_000, maxLockMs: 60_000 },
      maxKeys: 100,
    });
    const now = new Date();
    const context = { now, ip: '198.51.100.1', throttle };
    await rejects(createSession(db, 'bob', 'guess-one-xxxx', context), 401, GENERIC);
    await rejects(createSession(db, 'bob', 'guess-two-xxxx', context), 401, GENERIC);
    await assert.rejects(createSession(db, 'bob', BOB_PASSWORD, context), (error: unknown) => {
      assert.ok(error instanceof TooManyAttemptsError);
      assert.equal(error.status, 429);
      assert.equal(error.retryAfterSeconds, 30);
      return true;
    });
    const later = { ...context, now: new Date(now.getTime() + 31_000) };
    assert.equal((await createSession(db, 'bob', BOB_PASSWORD, later)).principal.id, 'bob');
  });

  it('people change their own password only with the current one; sessions end with it', async () => {
    const carolSession = await createSession(db, 'carol', CAROL_PASSWORD, { now: new Date() });
    const carol = carolSession.principal;
    const next = 'carols-new-long-password';
    await rejects(
      setPassword(db, { user: 'carol', password: next }, carol),
      401,
      /current password is wrong/,
    );
    await rejects(
      setPassword(db, { user: 'carol', password: next, currentPassword: 'nope-nope-nope' }, carol),
      401,
      /current password is wrong/,
    );
    await rejects(setPassword(db, { user: 'bob', password: next }, carol), 403, /set the password of bob/);
    await setPassword(db, { user: 'carol', password: next, currentPassword: CAROL_PASSWORD }, carol);
    assert.equal(await fresh().verifySession(carolSession.secret), null);
    await rejects(createSession(db, 'carol', CAROL_PASSWORD, { now: new Date() }), 401, GENERIC);
    assert.equal((await createSession(db, 'carol', next, { now: new Date() })).principal.id, 'carol');
    await setPassword(db, { user: 'carol', password: CAROL_PASSWORD }, admin);
    assert.equal(
      (await createSession(db, 'carol', CAROL_PASSWORD, { now: new Date() })).principal.id,
      'carol',
    );
  });

  it('flywheel login stores a 0600 token the CLI acts with; logout revokes it', async () => {
    const env = {
      XDG_CONFIG_HOME: path.join(home, 'config'),
      DATABASE_URL: database.url,
      FLYWHEEL_HOME: home,
    };
    const ctx = new CliContext(env);
    try {
      await rejects(cliPrincipal(ctx, env), 401, /Not signed in: run `flywheel login` or set FLYWHEEL_TOKEN/);
      await rejects(runLogin(db, { user: 'bob', password: 'wrong-password', env }), 401, GENERIC);
      const { file, created } = await runLogin(db, { user: 'bob', password: BOB_PASSWORD, env });
      assert.equal(file, path.join(home, 'config', 'flywheel', 'credentials.json'));
      assert.equal(credentialsPath(env), file);
      assert.equal(statSync(file).mode & 0o777, 0o600);
      assert.equal(statSync(path.dirname(file)).mode & 0o777, 0o700);
      const stored = JSON.parse(readFileSync(file, 'utf8')) as {
        user: string;
        token: string;
        tokenId: string;
      };
      assert.deepEqual([stored.user, stored.token, stored.tokenId], ['bob', created.token, created.id]);
      assert.ok(created.expiresAt && created.expiresAt.getTime() > Date.now() + 29 * 86_400_000);

      const principal = await cliPrincipal(ctx, env);
      assert.deepEqual([principal.kind, principal.id], ['user', 'bob']);
      assert.deepEqual(
        (await auditRows(`user:bob/token:${created.id}`)).map((r) => [r.actor, r.action]),
        [['user:bob', 'user-token.create']],
      );
      await rejects(
        cliPrincipal(ctx, { ...env, FLYWHEEL_TOKEN: 'fwu_forged' }),
        401,
        /token from FLYWHEEL_TOKEN is not valid here/,
      );

      // Signing in again replaces the stored token and revokes the one it replaces.
      const again = await runLogin(db, { user: 'bob', password: BOB_PASSWORD, env });
      assert.equal(await fresh().verifyBearer(created.token), null);
      assert.equal((await cliPrincipal(ctx, env)).id, 'bob');

      assert.match(await runLogout(db, env), /Signed out bob: token utk_[0-9a-f]+ revoked/);
      assert.equal(await fresh().verifyBearer(again.created.token), null);
      await rejects(cliPrincipal(ctx, env), 401, /Not signed in/);
    } finally {
      await ctx.close();
    }
  });
});
