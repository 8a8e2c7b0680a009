import type { IncomingMessage } from 'node:http';
import type { Principal } from '../schemas/principal.js';
import { UserError } from '../schemas/user-error.js';

/** Who a credential stands for: a bearer token (agent or personal) or a console session. */
export interface PrincipalVerifier {
  verifyBearer(token: string): Promise<Principal | null>;
}

export interface Authenticator {
  /** The principal behind the request's credentials; a 401 that says what to send when none. */
  authenticate(req: IncomingMessage): Promise<Principal>;
}

const BEARER = /^Bearer\s+(\S+)$/i;

export const missingCredentials = () =>
  new UserError(
    'Send "Authorization: Bearer <token>": an agent token (`flywheel token create --agent <id>`) for ingest, feedback and resolve, or your own (`flywheel login`, or `flywheel token create --role <role>`) for everything else.',
    'unauthorized',
  );

export const unknownToken = () =>
  new UserError(
    'Unknown, expired or revoked token, or a disabled user; sign in again with `flywheel login` or create a new token.',
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
 * Authentication from the `Authorization` header. Concurrent requests with the same token
 * share one verification: when a token's cached answer expires under load (resolve serves
 * thousands of requests a second per token), one database lookup answers them all.
 */
export function createAuthenticator(principals: PrincipalVerifier): Authenticator {
  const inflight = new Map<string, Promise<Principal | null>>();
  const shared: PrincipalVerifier = {
    verifyBearer(token) {
      const pending = inflight.get(token);
      if (pending) return pending;
      const lookup = principals.verifyBearer(token).finally(() => inflight.delete(token));
      inflight.set(token, lookup);
      return lookup;
    },
  };
  return { authenticate: (req) => principalOfHeader(shared, req.headers.authorization ?? '') };
}
