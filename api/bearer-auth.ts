import { type TokenIdentity, type TokenScope, type TokenVerifier } from '../registry/agent-token-service.js';
import { ForbiddenError, UserError } from '../schemas/user-error.js';

/**
 * The identity behind an `Authorization: Bearer <agent token>` value, or the error that says
 * what to send: the HTTP API reads it from a header, the OTLP/gRPC receiver from metadata.
 */
export async function authenticateBearer(
  tokens: TokenVerifier,
  header: string,
  scope: TokenScope,
): Promise<TokenIdentity> {
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  if (!match?.[1])
    throw new UserError(
      'Send "Authorization: Bearer <agent token>"; create one with `flywheel token create --agent <id>`.',
      'unauthorized',
    );
  const identity = await tokens.verify(match[1]);
  if (!identity)
    throw new UserError(
      'Unknown or revoked token; create a new one with `flywheel token create`.',
      'unauthorized',
    );
  if (!identity.scopes.includes(scope))
    throw new ForbiddenError(`This token lacks the "${scope}" scope; create one with --scope ${scope}.`);
  return identity;
}
