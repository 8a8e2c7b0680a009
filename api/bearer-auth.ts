import type { AgentScope, Principal } from '../schemas/principal.js';
import { ForbiddenError } from '../schemas/user-error.js';
import { principalOfHeader, type PrincipalVerifier } from './authentication.js';

/**
 * The agent token behind an `Authorization: Bearer <agent token>` value, or the error that
 * says what to send: the OTLP/gRPC receiver reads it from metadata (the HTTP API checks its
 * route table's requirement in http-server.ts).
 */
export async function authenticateAgentToken(
  principals: PrincipalVerifier,
  header: string,
  scope: AgentScope,
): Promise<Extract<Principal, { kind: 'agent' }>> {
  const principal = await principalOfHeader(principals, header);
  if (principal.kind !== 'agent')
    throw new ForbiddenError(
      `Send traces with an agent token (\`flywheel token create --agent <id> --scope ${scope}\`), not a personal one.`,
    );
  if (!principal.scopes.includes(scope))
    throw new ForbiddenError(`This token lacks the "${scope}" scope; create one with --scope ${scope}.`);
  return principal;
}
