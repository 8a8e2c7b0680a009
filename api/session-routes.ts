import { fastifyCookie } from '@fastify/cookie';
import { z } from 'zod';
import type { Db } from '../db/connection.js';
import type { LoginThrottle } from '../registry/login-throttle.js';
import type { PrincipalVerifier } from '../registry/principal-service.js';
import { createSession, revokeSession } from '../registry/session-service.js';
import { formatIssues } from '../schemas/format-issues.js';
import { principalLabel, type Requirement } from '../schemas/principal.js';
import { UserError } from '../schemas/user-error.js';
import type { ApiRoute, RouteRequest } from './api-route.js';
import { SESSION_COOKIE } from './authentication.js';

export interface SessionRouteDeps {
  db: Db;
  principals: PrincipalVerifier;
  /** One per API process: failed sign-ins per user name and address (registry/login-throttle.ts). */
  loginThrottle: LoginThrottle;
  /** Whether the cookie is `Secure`: people reach the API over HTTPS (config `web.cookieSecure`). */
  cookieSecure?: boolean;
  now?: () => Date;
}

/** Anyone authenticated: a person with any role, or an agent token with any scope. */
export const ANY_PRINCIPAL: readonly Requirement[] = [
  { role: 'viewer' },
  { scope: 'ingest' },
  { scope: 'feedback' },
  { scope: 'resolve' },
];

export const LoginRequest = z.object({
  user: z.string().min(1, 'user is your user name').max(200),
  password: z.string().min(1, 'password is required').max(10_000),
});

/**
 * The session cookie: HttpOnly (page scripts never read the secret), SameSite=Lax (other
 * sites' requests that change something never carry it; the CSRF token covers the rest),
 * Path=/, Secure when people reach the API over HTTPS, and gone when the session expires.
 */
export function sessionCookie(secret: string, expiresAt: Date, secure: boolean): string {
  return fastifyCookie.serialize(SESSION_COOKIE, secret, {
    httpOnly: true,
    sameSite: 'lax',
    path: '/',
    secure,
    expires: expiresAt,
  });
}

/** The Set-Cookie value that makes the browser forget the session cookie. */
export function clearedSessionCookie(secure: boolean): string {
  return fastifyCookie.serialize(SESSION_COOKIE, '', {
    httpOnly: true,
    sameSite: 'lax',
    path: '/',
    secure,
    expires: new Date(0),
    maxAge: 0,
  });
}

const isJson = (r: RouteRequest) =>
  (r.headers['content-type'] ?? '').split(';')[0]?.trim() === 'application/json';

/** Console sign-in and sign-out, and who the caller is. */
export function sessionRoutes(deps: SessionRouteDeps): ApiRoute[] {
  const now = () => deps.now?.() ?? new Date();
  const secure = deps.cookieSecure ?? false;
  return [
    {
      method: 'POST',
      url: '/api/session',
      tag: 'sessions',
      summary:
        'Sign in to the console with a user name and password: sets the session cookie and answers the CSRF token. Wrong credentials: 401 with one message; too many failures: 429 with Retry-After.',
      auth: { public: true },
      schema: { body: LoginRequest },
      handler: async (r) => {
        // A cross-site HTML form can post text/plain but never application/json: no one can
        // sign a visitor's browser in to someone else's account from another site.
        if (!isJson(r))
          throw new UserError(
            'Sign in with a JSON body {"user", "password"} and Content-Type: application/json.',
            'unsupported_media_type',
          );
        const parsed = LoginRequest.safeParse(r.json());
        if (!parsed.success) throw new UserError(`${formatIssues(parsed.error)}. Nobody was signed in.`);
        const session = await createSession(deps.db, parsed.data.user, parsed.data.password, {
          now: now(),
          ip: r.ip,
          userAgent: typeof r.headers['user-agent'] === 'string' ? r.headers['user-agent'] : null,
          throttle: deps.loginThrottle,
        });
        return {
          status: 201,
          headers: {
            'set-cookie': sessionCookie(session.secret, session.expiresAt, secure),
            'cache-control': 'no-store',
          },
          body: {
            user: session.principal.id,
            grants: session.principal.grants,
            sessionId: session.sessionId,
            csrfToken: session.csrfToken,
            expiresAt: session.expiresAt.toISOString(),
          },
        };
      },
    },
    {
      method: 'DELETE',
      url: '/api/session',
      tag: 'sessions',
      summary:
        'Sign out: ends the console session in the cookie (X-CSRF-Token required) and clears the cookie.',
      // A person without any role can do nothing, so their session is harmless until it expires.
      auth: { role: 'viewer' },
      // Their own session: a role for any one agent is enough to end it.
      filtersToGrants: true,
      handler: async (r) => {
        if (!r.session)
          throw new UserError(
            'DELETE /api/session ends the console session in the cookie, but this request authenticated with a bearer token: revoke a personal token with DELETE /api/tokens/<id> (or `flywheel logout`). Nothing was changed.',
          );
        await revokeSession(deps.db, r.session.id, r.principal, { now: now(), verifier: deps.principals });
        return {
          status: 200,
          headers: { 'set-cookie': clearedSessionCookie(secure), 'cache-control': 'no-store' },
          body: { signedOut: r.session.id },
        };
      },
    },
    {
      method: 'GET',
      url: '/api/me',
      tag: 'sessions',
      summary:
        'Who the credentials stand for: a person with their grants and how they signed in (with the session and its CSRF token), or an agent token with its scopes.',
      auth: ANY_PRINCIPAL,
      // About the caller only: a person with a role for one agent is answered too (the console
      // asks on every page load).
      filtersToGrants: true,
      handler: (r) => {
        const p = r.principal;
        const body =
          p.kind === 'agent'
            ? { kind: p.kind, label: principalLabel(p), tokenId: p.id, agent: p.agent, scopes: p.scopes }
            : {
                kind: p.kind,
                label: principalLabel(p),
                user: p.id,
                grants: p.grants,
                via: p.via,
                ...(p.tokenId === undefined ? {} : { tokenId: p.tokenId }),
                ...(r.session
                  ? {
                      session: {
                        id: r.session.id,
                        csrfToken: r.session.csrfToken,
                        expiresAt: r.session.expiresAt.toISOString(),
                      },
                    }
                  : {}),
              };
        return Promise.resolve({ status: 200, headers: { 'cache-control': 'no-store' }, body });
      },
    },
  ];
}
