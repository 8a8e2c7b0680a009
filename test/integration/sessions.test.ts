import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client } from '@temporalio/client';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { apiDeps, buildApi } from '../../api/http-server.js';
import type { Db } from '../../db/connection.js';
import { ensureAgent } from '../../registry/agent-service.js';
import { LoginThrottle } from '../../registry/login-throttle.js';
import { createUser, ensureFirstAdmin } from '../../registry/user-service.js';
import type { Principal } from '../../schemas/principal.js';
import { personWithToken } from '../helpers/api-credentials.js';
import { testDataConverter } from '../helpers/test-payload-encryption.js';
import { startTestDatabase } from '../helpers/test-stack.js';

const UI_ORIGIN = 'http://localhost:8233';
const GENERIC = 'Wrong user name or password.';
const PASSWORD = 'a-long-enough-password';
const b64 = (text: string) => Buffer.from(text).toString('base64');

/**
 * The console's sign-in over HTTP on a real Postgres: the session cookie and its attributes,
 * CSRF protection of changes made with it, sign-out, the generic sign-in error and the
 * throttle's 429, the admin routes for people and tokens (with the audit rows they write), and
 * the Temporal codec endpoint behind admin authentication with CORS for the Web UI.
 */
describe('console sessions, admin routes and the codec endpoint over HTTP', () => {
  let database: { db: Db; teardown(): Promise<void> };
  let db: Db;
  let app: FastifyInstance;
  let adminPassword = '';
  /** Three failures lock a user name; the address limit stays out of the way. */
  const throttle = new LoginThrottle({
    user: { maxFailures: 3, windowMs: 60_000, baseLockMs: 30_000, maxLockMs: 60_000 },
    ip: { maxFailures: 1000, windowMs: 60_000, baseLockMs: 30_000, maxLockMs: 60_000 },
    maxKeys: 1000,
  });

  const signIn = (user: string, password: string, contentType = 'application/json') =>
    app.inject({
      method: 'POST',
      url: '/api/session',
      headers: { 'content-type': contentType },
      payload: JSON.stringify({ user, password }),
    });
  /** Signs in and returns what a browser keeps: the cookie header and the CSRF token. */
  const session = async (user: string, password: string) => {
    const res = await signIn(user, password);
    assert.equal(res.statusCode, 201, res.body);
    const cookie = res.cookies.find((c) => c.name === 'flywheel_session');
    assert.ok(cookie, 'a session cookie');
    const { csrfToken } = res.json<{ csrfToken: string }>();
    return { cookie: `flywheel_session=${cookie.value}`, csrfToken };
  };
  const send = (
    method: 'GET' | 'POST' | 'PUT' | 'DELETE',
    url: string,
    headers: Record<string, string>,
    body?: unknown,
  ) =>
    app.inject({
      method,
      url,
      headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
    });
  const errorOf = (res: LightMyRequestResponse) => res.json<{ error: string }>().error;
  const audit = (artifact: string) =>
    db
      .selectFrom('audit_log')
      .select(['actor', 'action'])
      .where('artifact', 'like', `${artifact}%`)
      .orderBy('id')
      .execute();
  const userExists = async (id: string) =>
    (await db.selectFrom('users').select('id').where('id', '=', id).executeTakeFirst()) !== undefined;

  before(async () => {
    database = await startTestDatabase();
    db = database.db;
    await ensureAgent(db, 'demo');
    await ensureAgent(db, 'billing');
    const first = await ensureFirstAdmin(db);
    assert.ok(first);
    adminPassword = first.password;
    // A client that is never connected: the codec endpoint only uses its payload codecs.
    const temporal = new Client({ dataConverter: testDataConverter() });
    ({ app } = await buildApi({
      ...apiDeps(db, temporal, { codecOrigins: [UI_ORIGIN] }),
      loginThrottle: throttle,
    }));
  });
  after(async () => {
    await app?.close();
    await database?.teardown();
  });

  it('signs in with a password: an HttpOnly, SameSite=Lax cookie for the whole API, the grants and a CSRF token', async () => {
    const res = await signIn('admin', adminPassword);
    assert.equal(res.statusCode, 201, res.body);
    const cookie = res.cookies.find((c) => c.name === 'flywheel_session');
    assert.ok(cookie);
    assert.match(cookie.value, /^fws_/);
    assert.equal(cookie.httpOnly, true);
    assert.equal(cookie.sameSite, 'Lax');
    assert.equal(cookie.path, '/');
    assert.ok(!cookie.secure, 'plain HTTP unless configured');
    assert.ok(cookie.expires && cookie.expires.getTime() > Date.now() + 11 * 3_600_000);
    const body = res.json<{ user: string; grants: unknown; csrfToken: string; expiresAt: string }>();
    assert.equal(body.user, 'admin');
    assert.deepEqual(body.grants, [{ role: 'admin', agent: null }]);
    assert.ok(body.csrfToken.length >= 32);
    // The cookie goes when the session does (Expires has whole seconds).
    assert.ok(Math.abs(new Date(body.expiresAt).getTime() - cookie.expires.getTime()) < 1000);
    assert.equal(res.headers['cache-control'], 'no-store');
  });

  it('marks the cookie Secure when the API is reached over HTTPS', async () => {
    const { app: behindTls } = await buildApi(apiDeps(db, new Client(), { cookieSecure: true }));
    try {
      const res = await behindTls.inject({
        method: 'POST',
        url: '/api/session',
        headers: { 'content-type': 'application/json' },
        payload: JSON.stringify({ user: 'admin', password: adminPassword }),
      });
      assert.equal(res.statusCode, 201, res.body);
      assert.match(String(res.headers['set-cookie']), /; Secure/);
    } finally {
      await behindTls.close();
    }
  });

  it('authenticates reads with the cookie: GET /api/me names the person, the session and its CSRF token', async () => {
    const { cookie, csrfToken } = await session('admin', adminPassword);
    const me = await send('GET', '/api/me', { cookie });
    assert.equal(me.statusCode, 200, me.body);
    const body = me.json<{ user: string; via: string; grants: unknown; session: { csrfToken: string } }>();
    assert.equal(body.user, 'admin');
    assert.equal(body.via, 'session');
    assert.equal(body.session.csrfToken, csrfToken);
    assert.equal((await send('GET', '/api/users', { cookie })).statusCode, 200);
  });

  it('refuses a change made with the cookie without the right X-CSRF-Token, and changes nothing', async () => {
    const { cookie, csrfToken } = await session('admin', adminPassword);
    const newUser = { id: 'csrf-cat', grants: [{ role: 'viewer', agent: null }] };
    const missing = await send('POST', '/api/users', { cookie }, newUser);
    assert.equal(missing.statusCode, 403, missing.body);
    assert.match(errorOf(missing), /needs the X-CSRF-Token header.*Nothing was changed/);
    const wrong = await send('POST', '/api/users', { cookie, 'x-csrf-token': `${csrfToken}x` }, newUser);
    assert.equal(wrong.statusCode, 403, wrong.body);
    assert.match(errorOf(wrong), /not this session's CSRF token/);
    // Another session's token is not this one's.
    const other = await session('admin', adminPassword);
    const crossed = await send('POST', '/api/users', { cookie, 'x-csrf-token': other.csrfToken }, newUser);
    assert.equal(crossed.statusCode, 403, crossed.body);
    assert.equal(await userExists('csrf-cat'), false);
    const ok = await send('POST', '/api/users', { cookie, 'x-csrf-token': csrfToken }, newUser);
    assert.equal(ok.statusCode, 201, ok.body);
    assert.equal(await userExists('csrf-cat'), true);
    assert.deepEqual(await audit('user:csrf-cat'), [{ actor: 'user:admin', action: 'user.create' }]);
  });

  it('signs out: the session is revoked, the cookie cleared and no longer accepted', async () => {
    const { cookie, csrfToken } = await session('admin', adminPassword);
    const noToken = await send('DELETE', '/api/session', { cookie });
    assert.equal(noToken.statusCode, 403, 'signing out is a change too');
    const out = await send('DELETE', '/api/session', { cookie, 'x-csrf-token': csrfToken });
    assert.equal(out.statusCode, 200, out.body);
    const cleared = out.cookies.find((c) => c.name === 'flywheel_session');
    assert.equal(cleared?.value, '');
    assert.equal(cleared?.maxAge, 0);
    const after = await send('GET', '/api/me', { cookie });
    assert.equal(after.statusCode, 401);
    assert.match(errorOf(after), /session has ended/);
    const rows = await audit('user:admin/session:');
    assert.ok(rows.some((r) => r.action === 'session.revoke' && r.actor === 'user:admin'));
  });

  it('answers one generic 401 for a wrong password and an unknown user, and wants JSON', async () => {
    await createUser(
      db,
      { id: 'wrong-wes', password: PASSWORD, grants: [{ role: 'viewer', agent: null }] },
      { kind: 'user', id: 'admin', grants: [{ role: 'admin', agent: null }], via: 'token' },
    );
    const wrong = await signIn('wrong-wes', 'not-the-password');
    const unknown = await signIn('nobody-here', 'not-the-password');
    for (const res of [wrong, unknown]) {
      assert.equal(res.statusCode, 401, res.body);
      assert.equal(errorOf(res), GENERIC);
      assert.equal(res.cookies.length, 0);
    }
    const form = await signIn('wrong-wes', PASSWORD, 'text/plain');
    assert.equal(form.statusCode, 415, form.body);
    const bad = await send('POST', '/api/session', {}, { user: 'wrong-wes' });
    assert.equal(bad.statusCode, 400, bad.body);
    assert.match(errorOf(bad), /password/);
  });

  it('locks a user name after repeated failures: 429 with Retry-After, even for the right password', async () => {
    await createUser(
      db,
      { id: 'locked-lou', password: PASSWORD, grants: [{ role: 'viewer', agent: null }] },
      { kind: 'user', id: 'admin', grants: [{ role: 'admin', agent: null }], via: 'token' },
    );
    for (let i = 0; i < 3; i++)
      assert.equal((await signIn('locked-lou', 'guess-guess-guess')).statusCode, 401);
    const locked = await signIn('locked-lou', PASSWORD);
    assert.equal(locked.statusCode, 429, locked.body);
    assert.ok(Number(locked.headers['retry-after']) >= 1, `retry-after ${locked.headers['retry-after']}`);
    assert.match(errorOf(locked), /Too many failed sign-ins/);
    assert.equal(locked.cookies.length, 0);
  });

  it("ends a disabled user's session at once, and their tokens", async () => {
    const admin = await personWithToken(db, 'admin-ann', 'admin');
    await createUser(
      db,
      { id: 'dora', password: PASSWORD, grants: [{ role: 'viewer', agent: null }] },
      { kind: 'user', id: 'admin', grants: [{ role: 'admin', agent: null }], via: 'token' },
    );
    const dora = await session('dora', PASSWORD);
    assert.equal((await send('GET', '/api/me', { cookie: dora.cookie })).statusCode, 200);
    const disabled = await send('POST', '/api/users/dora/disable', admin.headers);
    assert.equal(disabled.statusCode, 200, disabled.body);
    assert.equal((await send('GET', '/api/me', { cookie: dora.cookie })).statusCode, 401);
    assert.equal((await signIn('dora', PASSWORD)).statusCode, 401);
    assert.deepEqual((await audit('user:dora')).at(-1), { actor: 'user:admin-ann', action: 'user.disable' });
    const enabled = await send('POST', '/api/users/dora/enable', admin.headers);
    assert.equal(enabled.statusCode, 200, enabled.body);
    assert.equal((await signIn('dora', PASSWORD)).statusCode, 201);
  });

  it("manages people: a viewer cannot create users, an admin can; the new user's token works until revoked", async () => {
    const viewer = await personWithToken(db, 'vera', 'viewer');
    const { cookie, csrfToken } = await session('admin', adminPassword);
    const admin = { cookie, 'x-csrf-token': csrfToken };
    const carl = { id: 'carl', displayName: 'Carl', grants: [{ role: 'operator', agent: null }] };
    const refused = await send('POST', '/api/users', viewer.headers, carl);
    assert.equal(refused.statusCode, 403, refused.body);
    assert.match(errorOf(refused), /needs the admin role/);
    assert.equal(await userExists('carl'), false);
    const created = await send('POST', '/api/users', admin, carl);
    assert.equal(created.statusCode, 201, created.body);
    assert.equal(created.json<{ hasPassword: boolean }>().hasPassword, false);
    assert.equal((await send('POST', '/api/users', admin, carl)).statusCode, 409);

    // A token for carl, capped at viewer: its secret is in this answer only.
    const made = await send('POST', '/api/tokens', admin, { user: 'carl', role: 'viewer', label: 'ci' });
    assert.equal(made.statusCode, 201, made.body);
    const { id, token } = made.json<{ id: string; token: string }>();
    assert.match(token, /^fwu_/);
    const carlAuth = { authorization: `Bearer ${token}` };
    const me = await send('GET', '/api/me', carlAuth);
    assert.equal(me.statusCode, 200, me.body);
    assert.deepEqual(me.json<{ user: string; via: string; grants: unknown }>().grants, [
      { role: 'viewer', agent: null },
    ]);
    const listed = await send('GET', '/api/tokens', carlAuth);
    assert.equal(listed.statusCode, 200, listed.body);
    assert.ok(!listed.body.includes(token), 'lists never show a token');
    assert.deepEqual(
      listed.json<{ data: { id: string }[] }>().data.map((t) => t.id),
      [id],
    );
    // Someone else's tokens are an admin's business.
    assert.equal((await send('GET', '/api/tokens?user=carl', viewer.headers)).statusCode, 403);
    assert.equal((await send('DELETE', `/api/tokens/${id}`, viewer.headers)).statusCode, 403);

    const revoked = await send('DELETE', `/api/tokens/${id}`, admin);
    assert.equal(revoked.statusCode, 200, revoked.body);
    assert.equal((await send('GET', '/api/me', carlAuth)).statusCode, 401);
    assert.deepEqual(await audit('user:carl'), [
      { actor: 'user:admin', action: 'user.create' },
      { actor: 'user:admin', action: 'user-token.create' },
      { actor: 'user:admin', action: 'user-token.revoke' },
    ]);
  });

  it('grants and revokes roles: an admin for one agent reaches that agent only', async () => {
    const ada = await personWithToken(db, 'ada', 'admin', 'demo');
    await createUser(
      db,
      { id: 'gus', grants: [{ role: 'viewer', agent: null }] },
      { kind: 'user', id: 'admin', grants: [{ role: 'admin', agent: null }], via: 'token' },
    );
    const forDemo = await send('POST', '/api/users/gus/grants', ada.headers, {
      role: 'approver',
      agent: 'demo',
    });
    assert.equal(forDemo.statusCode, 201, forDemo.body);
    const global = await send('POST', '/api/users/gus/grants', ada.headers, { role: 'operator' });
    assert.equal(global.statusCode, 403, global.body);
    const billing = await send('POST', '/api/users/gus/grants', ada.headers, {
      role: 'operator',
      agent: 'billing',
    });
    assert.equal(billing.statusCode, 403, billing.body);
    const badRole = await send('POST', '/api/users/gus/grants', ada.headers, {
      role: 'emperor',
      agent: 'demo',
    });
    assert.equal(badRole.statusCode, 400, badRole.body);
    const revoke = await send('DELETE', '/api/users/gus/grants?role=approver&agent=demo', ada.headers);
    assert.equal(revoke.statusCode, 200, revoke.body);
    assert.deepEqual(revoke.json<{ grants: unknown }>().grants, [{ role: 'viewer', agent: null }]);
    assert.equal((await send('DELETE', '/api/users/gus/grants?role=viewer', ada.headers)).statusCode, 403);
    assert.deepEqual(
      (await audit('user:gus')).map((r) => `${r.actor} ${r.action}`),
      ['user:admin user.create', 'user:ada user.grant', 'user:ada user.revoke-role'],
    );
  });

  it('creates, lists and revokes agent tokens (admin for that agent); the secret is shown once', async () => {
    const ada = await personWithToken(db, 'ada-2', 'admin', 'demo');
    const operator = await personWithToken(db, 'otto', 'operator', 'demo');
    assert.equal((await send('POST', '/api/agents/demo/tokens', operator.headers, {})).statusCode, 403);
    assert.equal((await send('POST', '/api/agents/billing/tokens', ada.headers, {})).statusCode, 403);
    const made = await send('POST', '/api/agents/demo/tokens', ada.headers, { scopes: ['ingest'] });
    assert.equal(made.statusCode, 201, made.body);
    const { id, token, scopes } = made.json<{ id: string; token: string; scopes: string[] }>();
    assert.deepEqual(scopes, ['ingest']);
    const asAgent = await send('GET', '/api/me', { authorization: `Bearer ${token}` });
    assert.equal(asAgent.statusCode, 200, asAgent.body);
    assert.equal(asAgent.json<{ agent: string }>().agent, 'demo');
    const list = await send('GET', '/api/agents/demo/tokens', ada.headers);
    assert.equal(list.statusCode, 200, list.body);
    assert.ok(!list.body.includes(token));
    assert.ok(list.json<{ data: { id: string }[] }>().data.some((t) => t.id === id));
    assert.equal((await send('DELETE', `/api/agents/billing/tokens/${id}`, ada.headers)).statusCode, 403);
    const revoked = await send('DELETE', `/api/agents/demo/tokens/${id}`, ada.headers);
    assert.equal(revoked.statusCode, 200, revoked.body);
    assert.equal((await send('GET', '/api/me', { authorization: `Bearer ${token}` })).statusCode, 401);
    const rows = await db
      .selectFrom('audit_log')
      .select(['actor', 'action'])
      .where('artifact', 'like', `%token:${id}`)
      .orderBy('id')
      .execute();
    assert.deepEqual(rows, [
      { actor: 'user:ada-2', action: 'token.create' },
      { actor: 'user:ada-2', action: 'token.revoke' },
    ]);
  });

  it('lists and ends sessions: your own, or anyone’s as an admin', async () => {
    await createUser(
      db,
      { id: 'sam', password: PASSWORD, grants: [{ role: 'viewer', agent: null }] },
      { kind: 'user', id: 'admin', grants: [{ role: 'admin', agent: null }], via: 'token' },
    );
    const sam = await session('sam', PASSWORD);
    const mine = await send('GET', '/api/sessions', { cookie: sam.cookie });
    assert.equal(mine.statusCode, 200, mine.body);
    const [open] = mine.json<{ data: { id: string }[] }>().data;
    assert.ok(open);
    assert.ok(!mine.body.includes(sam.cookie.split('=')[1]!), 'lists never show a session secret');
    const vera = await personWithToken(db, 'vera-2', 'viewer');
    assert.equal((await send('GET', '/api/sessions?user=sam', vera.headers)).statusCode, 403);
    assert.equal((await send('DELETE', `/api/sessions/${open.id}`, vera.headers)).statusCode, 403);
    const { cookie, csrfToken } = await session('admin', adminPassword);
    const ended = await send('DELETE', `/api/sessions/${open.id}`, { cookie, 'x-csrf-token': csrfToken });
    assert.equal(ended.statusCode, 200, ended.body);
    assert.equal((await send('GET', '/api/me', { cookie: sam.cookie })).statusCode, 401);
    // Signing out needs a session: a bearer token is revoked another way.
    const withToken = await send('DELETE', '/api/session', vera.headers);
    assert.equal(withToken.statusCode, 400, withToken.body);
    assert.match(errorOf(withToken), /DELETE \/api\/tokens/);
  });

  it('sets passwords: your own with the current one; any change ends the sessions', async () => {
    await createUser(
      db,
      { id: 'pat', password: PASSWORD, grants: [{ role: 'viewer', agent: null }] },
      { kind: 'user', id: 'admin', grants: [{ role: 'admin', agent: null }], via: 'token' },
    );
    const pat = await session('pat', PASSWORD);
    const headers = { cookie: pat.cookie, 'x-csrf-token': pat.csrfToken };
    const next = 'another-long-password';
    const wrong = await send('PUT', '/api/users/pat/password', headers, {
      password: next,
      currentPassword: 'nope',
    });
    assert.equal(wrong.statusCode, 401, wrong.body);
    const short = await send('PUT', '/api/users/pat/password', headers, {
      password: 'short',
      currentPassword: PASSWORD,
    });
    assert.equal(short.statusCode, 400, short.body);
    const ok = await send('PUT', '/api/users/pat/password', headers, {
      password: next,
      currentPassword: PASSWORD,
    });
    assert.equal(ok.statusCode, 200, ok.body);
    assert.equal((await send('GET', '/api/me', { cookie: pat.cookie })).statusCode, 401);
    assert.equal((await signIn('pat', next)).statusCode, 201);
    // Someone else's password is an admin's business.
    const vic = await personWithToken(db, 'vic', 'viewer');
    const others = await send('PUT', '/api/users/pat/password', vic.headers, { password: next });
    assert.equal(others.statusCode, 403, others.body);
    assert.equal((await signIn('pat', next)).statusCode, 201);
  });

  it('lets a person with a role for one agent only list and end their own sessions and set their own password', async () => {
    const admin: Principal = {
      kind: 'user',
      id: 'admin',
      grants: [{ role: 'admin', agent: null }],
      via: 'token',
    };
    await createUser(
      db,
      { id: 'rosa', password: PASSWORD, grants: [{ role: 'reviewer', agent: 'demo' }] },
      admin,
    );
    await createUser(
      db,
      { id: 'omar', password: PASSWORD, grants: [{ role: 'viewer', agent: null }] },
      admin,
    );
    const rosa = await session('rosa', PASSWORD);
    const second = await session('rosa', PASSWORD);
    const omar = await session('omar', PASSWORD);
    const headers = { cookie: rosa.cookie, 'x-csrf-token': rosa.csrfToken };
    const mine = await send('GET', '/api/sessions', headers);
    assert.equal(mine.statusCode, 200, mine.body);
    const ids = mine.json<{ data: { id: string; user: string }[] }>().data;
    assert.equal(ids.length, 2);
    assert.ok(ids.every((s) => s.user === 'rosa'));
    // Nobody else's: not by asking, not by ending.
    assert.equal((await send('GET', '/api/sessions?user=omar', headers)).statusCode, 403);
    const omarSessions = await send('GET', '/api/sessions', { cookie: omar.cookie });
    const [omarSession] = omarSessions.json<{ data: { id: string }[] }>().data;
    assert.equal((await send('DELETE', `/api/sessions/${omarSession!.id}`, headers)).statusCode, 403);
    assert.equal(
      (await send('GET', '/api/me', { cookie: omar.cookie })).statusCode,
      200,
      'omar is still signed in',
    );
    // Ending the other of her own sessions signs that browser out.
    const target = (await send('GET', '/api/me', { cookie: second.cookie })).json<{
      session: { id: string };
    }>();
    assert.ok(
      ids.some((s) => s.id === target.session.id),
      'the list names the session',
    );
    assert.equal((await send('DELETE', `/api/sessions/${target.session.id}`, headers)).statusCode, 200);
    assert.equal((await send('GET', '/api/me', { cookie: second.cookie })).statusCode, 401);
    // Her own password, with the current one; omar's is not hers to set.
    const next = 'rosas-new-long-password';
    assert.equal(
      (await send('PUT', '/api/users/omar/password', headers, { password: next })).statusCode,
      403,
    );
    const ok = await send('PUT', '/api/users/rosa/password', headers, {
      password: next,
      currentPassword: PASSWORD,
    });
    assert.equal(ok.statusCode, 200, ok.body);
    assert.equal((await signIn('rosa', next)).statusCode, 201);
  });

  describe('the codec endpoint', () => {
    const plain = { payloads: [{ metadata: { encoding: b64('json/plain') }, data: b64('"hello"') }] };

    it('refuses callers without credentials (401) and non-admins (403)', async () => {
      const operator = await personWithToken(db, 'codec-olga', 'operator');
      for (const action of ['encode', 'decode']) {
        assert.equal((await send('POST', `/api/codec/${action}`, {}, plain)).statusCode, 401);
        const res = await send('POST', `/api/codec/${action}`, operator.headers, plain);
        assert.equal(res.statusCode, 403, res.body);
        assert.match(errorOf(res), /needs the admin role/);
      }
    });

    it('round-trips a payload for an admin: encode encrypts under the active key, decode gives it back', async () => {
      const admin = await personWithToken(db, 'codec-adam', 'admin');
      const encoded = await send('POST', '/api/codec/encode', admin.headers, plain);
      assert.equal(encoded.statusCode, 200, encoded.body);
      const { payloads } = encoded.json<{ payloads: { metadata: Record<string, string>; data: string }[] }>();
      assert.equal(Buffer.from(payloads[0]!.metadata.encoding!, 'base64').toString(), 'binary/encrypted');
      assert.ok(!Buffer.from(payloads[0]!.data, 'base64').toString().includes('hello'));
      const decoded = await send('POST', '/api/codec/decode', admin.headers, { payloads });
      assert.equal(decoded.statusCode, 200, decoded.body);
      assert.deepEqual(decoded.json(), plain);
      const bad = await send('POST', '/api/codec/decode', admin.headers, { payloads: 'nope' });
      assert.equal(bad.statusCode, 400, bad.body);
    });

    it("serves the Web UI's origin: preflight, and an admin's session cookie without a CSRF token", async () => {
      const preflight = await app.inject({
        method: 'OPTIONS',
        url: '/api/codec/decode',
        headers: {
          origin: UI_ORIGIN,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'content-type,x-namespace',
        },
      });
      assert.equal(preflight.statusCode, 204, preflight.body);
      assert.equal(preflight.headers['access-control-allow-origin'], UI_ORIGIN);
      assert.equal(preflight.headers['access-control-allow-credentials'], 'true');
      assert.match(String(preflight.headers['access-control-allow-headers']), /x-namespace/);
      const elsewhere = await app.inject({
        method: 'OPTIONS',
        url: '/api/codec/decode',
        headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
      });
      assert.equal(elsewhere.statusCode, 403);
      assert.equal(elsewhere.headers['access-control-allow-origin'], undefined);

      const { cookie } = await session('admin', adminPassword);
      const fromUi = await send(
        'POST',
        '/api/codec/decode',
        { cookie, origin: UI_ORIGIN, 'x-namespace': 'default' },
        plain,
      );
      assert.equal(fromUi.statusCode, 200, fromUi.body);
      assert.equal(fromUi.headers['access-control-allow-origin'], UI_ORIGIN);
      assert.deepEqual(fromUi.json(), plain);
      // Refusals carry the CORS headers too, so the UI can show why.
      const anonymous = await send('POST', '/api/codec/decode', { origin: UI_ORIGIN }, plain);
      assert.equal(anonymous.statusCode, 401);
      assert.equal(anonymous.headers['access-control-allow-origin'], UI_ORIGIN);
      // Other routes stay same-origin.
      const other = await send('GET', '/api/me', { cookie, origin: UI_ORIGIN });
      assert.equal(other.headers['access-control-allow-origin'], undefined);
    });
  });

  it('a person with a role for one agent only reads GET /api/me and signs out with the cookie', async () => {
    await createUser(
      db,
      { id: 'rhea', password: PASSWORD, grants: [{ role: 'reviewer', agent: 'demo' }] },
      { kind: 'user', id: 'admin', grants: [{ role: 'admin', agent: null }], via: 'token' },
    );
    const rhea = await session('rhea', PASSWORD);
    const me = await send('GET', '/api/me', { cookie: rhea.cookie });
    assert.equal(me.statusCode, 200, me.body);
    assert.deepEqual(me.json<{ grants: unknown }>().grants, [{ role: 'reviewer', agent: 'demo' }]);
    // Still no list over every agent: that needs a global role.
    assert.equal((await send('GET', '/api/queues', { cookie: rhea.cookie })).statusCode, 403);
    const out = await send('DELETE', '/api/session', { cookie: rhea.cookie, 'x-csrf-token': rhea.csrfToken });
    assert.equal(out.statusCode, 200, out.body);
    assert.equal((await send('GET', '/api/me', { cookie: rhea.cookie })).statusCode, 401);
  });
});
