import { z } from 'zod';
import type { Db } from '../db/connection.js';
import {
  createAgentToken,
  listAgentTokens,
  revokeAgentToken,
  TOKEN_SCOPES,
} from '../registry/agent-token-service.js';
import type { PrincipalVerifier } from '../registry/principal-service.js';
import { createUserToken, listTokens, revokeToken } from '../registry/user-token-service.js';
import { AgentScope, principalLabel, Role, UserId } from '../schemas/principal.js';
import { NotFoundError } from '../schemas/user-error.js';
import type { ApiRoute } from './api-route.js';
import type { ResourceAgents } from './resource-agent.js';
import { parseInput, personOf } from './user-routes.js';

export interface TokenRouteDeps {
  db: Db;
  /** Told of every revocation, so this process's cache forgets the token at once. */
  principals: PrincipalVerifier;
  now?: () => Date;
}

const IdParam = z.object({ id: z.string() });
const AgentTokenParams = z.object({ id: z.string(), tokenId: z.string() });

export const PersonalTokenBody = z.object({
  /** Whose token; absent: your own. Someone else's needs the admin role globally. */
  user: UserId.optional(),
  /** Caps the user's roles; absent or null: the token acts with all of them. */
  role: Role.nullable().optional(),
  /** The one agent the token acts for; absent or null: every agent the user's grants reach. */
  agent: z.string().min(1).nullable().optional(),
  label: z.string().max(200).optional(),
  /** Valid for this many days; absent: until revoked. */
  expiresInDays: z.number().int().min(1).max(3650).optional(),
});

export const AgentTokenBody = z.object({
  /** Absent: all of ingest, feedback and resolve. */
  scopes: z.array(AgentScope).min(1).optional(),
});

const TokenQuery = z.object({ user: UserId.optional() });

/**
 * Bearer tokens over HTTP. Personal tokens: anyone creates, lists and revokes their own; a
 * global admin anyone's (the services check it). Agent tokens need the admin role for that
 * agent (or globally): a token is a credential that acts for the agent, which is the admin's
 * to hand out, not the operator's. The plain token is in the answer that creates it, once.
 */
export function tokenRoutes(deps: TokenRouteDeps, agents: ResourceAgents): ApiRoute[] {
  const now = () => deps.now?.() ?? new Date();
  return [
    {
      method: 'POST',
      url: '/api/tokens',
      tag: 'tokens',
      summary:
        'Create a personal token (yours, or `user`’s as a global admin), capped by `role` and `agent`; the token is in this answer only.',
      auth: { role: 'viewer' },
      schema: { body: PersonalTokenBody },
      handler: async (r) => {
        const body = parseInput(PersonalTokenBody, r.json());
        const created = await createUserToken(
          deps.db,
          {
            user: body.user ?? personOf(r.principal),
            role: body.role ?? null,
            agent: body.agent ?? null,
            label: body.label ?? '',
            expiresAt:
              body.expiresInDays === undefined
                ? null
                : new Date(now().getTime() + body.expiresInDays * 86_400_000),
          },
          r.principal,
        );
        return { status: 201, headers: { 'cache-control': 'no-store' }, body: created };
      },
    },
    {
      method: 'GET',
      url: '/api/tokens',
      tag: 'tokens',
      summary:
        "Personal tokens (never the tokens themselves): yours, or ?user=U's (or everyone's) as a global admin.",
      auth: { role: 'viewer' },
      schema: { querystring: TokenQuery },
      handler: async (r) => {
        const { user } = parseInput(TokenQuery, Object.fromEntries(r.query));
        return { status: 200, body: { data: await listTokens(deps.db, user ? { user } : {}, r.principal) } };
      },
    },
    {
      method: 'DELETE',
      url: '/api/tokens/:id',
      tag: 'tokens',
      summary: 'Revoke a personal token (`utk_…`): your own, or anyone’s as a global admin.',
      auth: { role: 'viewer' },
      schema: { params: IdParam },
      handler: async (r) => {
        const id = r.params.id ?? '';
        const revoked = await revokeToken(deps.db, id, r.principal, {
          now: now(),
          verifier: deps.principals,
        });
        return { status: 200, body: { token: id, revoked } };
      },
    },
    {
      method: 'POST',
      url: '/api/agents/:id/tokens',
      tag: 'tokens',
      summary:
        'Create an agent token with `scopes` (default: ingest, feedback, resolve); the token is in this answer only.',
      auth: { role: 'admin' },
      agent: agents.byAgentParam,
      schema: { params: IdParam, body: AgentTokenBody },
      handler: async (r) => {
        const body = parseInput(AgentTokenBody, r.json());
        const agent = r.params.id ?? '';
        const scopes = body.scopes ? [...new Set(body.scopes)] : [...TOKEN_SCOPES];
        const created = await createAgentToken(deps.db, {
          agent,
          scopes,
          createdBy: principalLabel(r.principal),
        });
        return { status: 201, headers: { 'cache-control': 'no-store' }, body: { ...created, agent, scopes } };
      },
    },
    {
      method: 'GET',
      url: '/api/agents/:id/tokens',
      tag: 'tokens',
      summary:
        "The agent's tokens with their scopes and whether they are revoked (never the tokens themselves).",
      auth: { role: 'admin' },
      agent: agents.byAgentParam,
      schema: { params: IdParam },
      handler: async (r) => {
        const rows = await listAgentTokens(deps.db, r.params.id ?? '');
        return {
          status: 200,
          body: {
            data: rows.map((t) => ({
              id: t.id,
              agent: t.agent_id,
              scopes: t.scopes,
              createdBy: t.created_by,
              createdAt: t.created_at,
              revokedAt: t.revoked_at,
            })),
          },
        };
      },
    },
    {
      method: 'DELETE',
      url: '/api/agents/:id/tokens/:tokenId',
      tag: 'tokens',
      summary:
        'Revoke one of the agent’s tokens (`tok_…`): refused at once by this API process, within seconds by the others.',
      auth: { role: 'admin' },
      agent: agents.byAgentParam,
      schema: { params: AgentTokenParams },
      handler: async (r) => {
        const agent = r.params.id ?? '';
        const id = r.params.tokenId ?? '';
        // Admin for one agent reaches only that agent's tokens.
        if (!(await listAgentTokens(deps.db, agent)).some((t) => t.id === id))
          throw new NotFoundError(
            `Agent ${agent} has no token ${id}; GET /api/agents/${agent}/tokens lists them. Nothing was changed.`,
          );
        const revoked = await revokeAgentToken(deps.db, id, principalLabel(r.principal));
        deps.principals.forget(id);
        return { status: 200, body: { token: id, agent, revoked } };
      },
    },
  ];
}
