import { NotFoundError } from '../../schemas/user-error.js';
import { createHash, randomBytes } from 'node:crypto';
import type { Db } from '../../db/connection.js';
import { AGENT_SCOPES, type AgentScope } from '../../schemas/principal.js';

// Agent tokens carry the agent scopes of the principal model (ingest, feedback, resolve).
export const TOKEN_SCOPES = AGENT_SCOPES;
export type TokenScope = AgentScope;

export interface TokenIdentity {
  tokenId: string;
  agent: string;
  scopes: TokenScope[];
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/**
 * Issues a bearer token scoped to one agent. Only its SHA-256 is stored, so a database
 * dump does not leak working tokens; the plain token is shown once, to its creator.
 */
export async function createAgentToken(
  db: Db,
  args: { agent: string; scopes: readonly TokenScope[]; createdBy: string },
): Promise<{ id: string; token: string }> {
  const secret = randomBytes(24).toString('base64url');
  const id = `tok_${randomBytes(6).toString('hex')}`;
  const token = `fw_${args.agent}_${secret}`;
  await db.transaction().execute(async (tx) => {
    const agent = await tx.selectFrom('agents').select('id').where('id', '=', args.agent).executeTakeFirst();
    if (!agent)
      throw new NotFoundError(
        `Unknown agent "${args.agent}": register it first with flywheel agent create ${args.agent} (POST /api/agents); flywheel agent list shows the agents there are. No token was created.`,
      );
    await tx
      .insertInto('agent_tokens')
      .values({
        id,
        agent_id: args.agent,
        token_sha256: sha256(token),
        scopes: [...args.scopes],
        created_by: args.createdBy,
      })
      .execute();
    await tx
      .insertInto('audit_log')
      .values({
        actor: args.createdBy,
        action: 'token.create',
        artifact: `agent:${args.agent}/token:${id}`,
        detail: JSON.stringify({ scopes: args.scopes }),
      })
      .execute();
  });
  return { id, token };
}

export async function revokeAgentToken(db: Db, id: string, actor: string): Promise<boolean> {
  const result = await db
    .updateTable('agent_tokens')
    .set({ revoked_at: new Date() })
    .where('id', '=', id)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  const revoked = Number(result.numUpdatedRows) > 0;
  if (revoked) {
    await db
      .insertInto('audit_log')
      .values({ actor, action: 'token.revoke', artifact: `token:${id}`, detail: '{}' })
      .execute();
  }
  return revoked;
}

export async function listAgentTokens(db: Db, agent?: string) {
  let q = db
    .selectFrom('agent_tokens')
    .select(['id', 'agent_id', 'scopes', 'created_by', 'created_at', 'revoked_at'])
    .orderBy('created_at');
  if (agent) q = q.where('agent_id', '=', agent);
  return q.execute();
}

/** The agent token `token` is, if it exists and is not revoked (no cache: see TokenVerifier). */
export async function activeAgentToken(db: Db, token: string): Promise<TokenIdentity | null> {
  const row = await db
    .selectFrom('agent_tokens')
    .select(['id', 'agent_id', 'scopes'])
    .where('token_sha256', '=', sha256(token))
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return row
    ? {
        tokenId: row.id,
        agent: row.agent_id,
        scopes: row.scopes.filter((s): s is TokenScope => (TOKEN_SCOPES as readonly string[]).includes(s)),
      }
    : null;
}

/**
 * Looks a bearer token up by its hash. Answers are cached for a few seconds so ingest
 * does not pay a query per request; a revocation takes effect within that time.
 */
export class TokenVerifier {
  private readonly cache = new Map<string, { identity: TokenIdentity | null; until: number }>();

  constructor(
    private readonly db: Db,
    private readonly ttlMs = 5_000,
    private readonly now: () => number = Date.now,
  ) {}

  async verify(token: string): Promise<TokenIdentity | null> {
    const hash = sha256(token);
    const hit = this.cache.get(hash);
    if (hit && hit.until > this.now()) return hit.identity;
    const identity = await activeAgentToken(this.db, token);
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(hash, { identity, until: this.now() + this.ttlMs });
    return identity;
  }
}
