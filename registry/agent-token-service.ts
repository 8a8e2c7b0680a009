import type { Db } from '../db/connection.js';
import { TokenVerifier } from './store/agent-tokens.js';

/**
 * Agent tokens: what the API authenticates ingest and feedback with, and what the CLI and the
 * dev launcher create, list and revoke.
 */
export function createTokenVerifier(db: Db): TokenVerifier {
  return new TokenVerifier(db);
}

export {
  createAgentToken,
  listAgentTokens,
  revokeAgentToken,
  TOKEN_SCOPES,
  type TokenIdentity,
  type TokenScope,
  type TokenVerifier,
} from './store/agent-tokens.js';
