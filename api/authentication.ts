import type { IncomingHttpHeaders } from 'node:http';
import type { Principal } from '../schemas/principal.js';
import { ForbiddenError, UserError } from '../schemas/user-error.js';
import type { VerifiedSession } from '../registry/principal-service.js';
import { csrfTokenMatches } from '../registry/session-service.js';

/** Who a credential stands for: a bearer token (agent or personal) or a console session. */
export interface PrincipalVerifier {
  verifyBearer(token: string): Promise<Principal | null>;
  /** The console session of a cookie's secret; a verifier without it accepts bearer tokens only. */
  verifySession?(secret: string): Promise<VerifiedSession | null>;
}

/** The console session a request authenticated with: what logout revokes and CSRF checks against. */
export interface RequestSession {
  id: string;
  csrfToken: string;
  expiresAt: Date;
}

export interface Authenticated {
  principal: Principal;
  /** Null when the request authenticated with a bearer token. */
  session: RequestSession | null;
}

/** What authentication reads of a request: its headers, and its cookies as @fastify/cookie parsed them. */
export interface CredentialRequest {
  headers: IncomingHttpHeaders;
  cookies?: Record<string, string | undefined>;
}

export interface Authenticator {
  /** The principal behind the request's credentials; a 401 that says what to send when none. */
  authenticate(req: CredentialRequest): Promise<Authenticated>;
}

/** The console's session cookie; its value is the session's secret (`fws_…`). */
export const SESSION_COOKIE = 'flywheel_session';
/** The header a cookie-authenticated request that changes something must carry. */
export const CSRF_HEADER = 'x-csrf-token';

const BEARER = /^Bearer\s+(\S+)$/i;

export const missingCredentials = () =>
  new UserError(
    'Send "Authorization: Bearer <token>": an agent token (`flywheel token create --agent <id>`) for ingest, feedback and resolve, or your own (`flywheel login`, or `flywheel token create --role <role>`) for everything else; the console signs in with POST /api/session and sends its cookie.',
    'unauthorized',
  );

export const unknownToken = () =>
  new UserError(
    'Unknown, expired or revoked token, or a disabled user; sign in again with `flywheel login` or create a new token.',
    'unauthorized',
  );

const endedSession = () =>
  new UserError(
    'Your console session has ended (signed out, expired, idle for too long, or your user was disabled or its password changed); sign in again with POST /api/session.',
    'unauthorized',
  );

/** The principal behind an `Authorization` header value, or the 401 that says what to send. */
export async function principalOfHeader(principals: PrincipalVerifier, header: string): Promise<Principal> {
  const match = BEARER.exec(header);
  if (!match?.[1]) throw missingCredentials();
  const principal = await principals.verifyBearer(match[1]);
  if (!principal) throw unknownToken();
  return principal;
}

/**
 * Authentication from the `Authorization` header, or else the console's session cookie: a
 * bearer header wins, and one that opens nothing is a 401 even with a cookie next to it.
 * (The verifier caches answers and shares one lookup among concurrent requests.)
 */
export function createAuthenticator(principals: PrincipalVerifier): Authenticator {
  return {
    async authenticate(req) {
      const cookie = req.cookies?.[SESSION_COOKIE];
      if (req.headers.authorization !== undefined || !cookie || !principals.verifySession)
        return {
          principal: await principalOfHeader(principals, req.headers.authorization ?? ''),
          session: null,
        };
      const found = await principals.verifySession(cookie);
      if (!found) throw endedSession();
      return {
        principal: found.principal,
        session: { id: found.sessionId, csrfToken: found.csrfToken, expiresAt: found.expiresAt },
      };
    },
  };
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * CSRF protection of console sessions: a cookie-authenticated request that may change
 * something must carry the session's CSRF token in X-CSRF-Token. A page on another site can
 * make the browser send the cookie, but cannot read the token nor set the header. Requests
 * with a bearer token need none: no browser adds one by itself.
 */
export function assertCsrfToken(method: string, headers: IncomingHttpHeaders, session: RequestSession): void {
  if (SAFE_METHODS.has(method)) return;
  const presented = headers[CSRF_HEADER];
  if (presented === undefined)
    throw new ForbiddenError(
      `${method} with a console session cookie needs the X-CSRF-Token header: send the csrfToken that POST /api/session (or GET /api/me) answered. Nothing was changed.`,
    );
  if (!csrfTokenMatches(session.csrfToken, typeof presented === 'string' ? presented : null))
    throw new ForbiddenError(
      "X-CSRF-Token is not this session's CSRF token: send the csrfToken that POST /api/session (or GET /api/me) answered for the session in the cookie. Nothing was changed.",
    );
}
