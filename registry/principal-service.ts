import type { Db } from '../db/connection.js';
import { capGrants, simplifyGrants, type Principal } from '../schemas/principal.js';
import { activeAgentToken } from './store/agent-tokens.js';
import { csrfTokenFor, sha256 } from './store/secrets.js';
import { activeSessionBySecretHash, touchSession } from './store/sessions.js';
import { activeUserTokenByHash, touchUserToken } from './store/user-tokens.js';
import { USER_TOKEN_PREFIX } from './user-token-service.js';

/**
 * Who a request is: one verifier for every credential the API accepts. A bearer token is an
 * agent token (→ an agent principal with its scopes) or a personal token (→ its user, with
 * the user's current grants under the token's cap); a session cookie is a console session
 * (→ its user, with a CSRF token for unsafe requests). Answers, including "no", are cached
 * for a few seconds (bounded, oldest out first), so a revocation or a disabled user takes
 * effect within that time everywhere and at once in the process that made it (forget).
 */

/** How long a console session lives at most, and how long it may sit unused. */
export const SESSION_LIFETIME_MS = 12 * 3_600_000;
export const SESSION_IDLE_MS = 2 * 3_600_000;

export type UserPrincipal = Extract<Principal, { kind: 'user' }>;

export interface VerifiedSession {
  principal: UserPrincipal;
  /** The public session id (`ses_…`): what logout and audit rows name. */
  sessionId: string;
  /** What the console must send back (X-CSRF-Token) on requests that change something. */
  csrfToken: string;
  expiresAt: Date;
}

export interface PrincipalVerifierOptions {
  ttlMs?: number;
  maxEntries?: number;
  sessionIdleMs?: number;
  now?: () => number;
}

type Answer =
  { kind: 'bearer'; principal: Principal | null } | { kind: 'session'; session: VerifiedSession | null };

export class PrincipalVerifier {
  private readonly cache = new Map<string, { answer: Answer; until: number }>();
  private readonly inflight = new Map<string, Promise<Answer>>();
  private readonly ttlMs: number;
  private readonly maxEntries: number;
  private readonly sessionIdleMs: number;
  private readonly now: () => number;

  constructor(
    private readonly db: Db,
    options: PrincipalVerifierOptions = {},
  ) {
    this.ttlMs = options.ttlMs ?? 5_000;
    this.maxEntries = options.maxEntries ?? 10_000;
    this.sessionIdleMs = options.sessionIdleMs ?? SESSION_IDLE_MS;
    this.now = options.now ?? Date.now;
  }

  /** The principal of an `Authorization: Bearer` token, or null when it opens nothing. */
  async verifyBearer(token: string): Promise<Principal | null> {
    const answer = await this.cached(`b:${sha256(token)}`, async () => ({
      kind: 'bearer' as const,
      principal: await this.lookUpBearer(token),
    }));
    return answer.kind === 'bearer' ? answer.principal : null;
  }

  /** The console session of a cookie's secret, or null when it is unknown, expired, idle, revoked or its user disabled. */
  async verifySession(secret: string): Promise<VerifiedSession | null> {
    const answer = await this.cached(`s:${sha256(secret)}`, async () => ({
      kind: 'session' as const,
      session: await this.lookUpSession(secret),
    }));
    return answer.kind === 'session' ? answer.session : null;
  }

  /** Drops cached answers about a token or session id (`utk_…`, `tok_…`, `ses_…`) this process just revoked. */
  forget(id: string): void {
    for (const [key, { answer }] of this.cache) {
      const principal = answer.kind === 'bearer' ? answer.principal : answer.session?.principal;
      const matches =
        (answer.kind === 'session' && answer.session?.sessionId === id) ||
        (principal?.kind === 'user' && principal.tokenId === id) ||
        (principal?.kind === 'agent' && principal.id === id);
      if (matches) this.cache.delete(key);
    }
  }

  /** Drops every cached answer about a user (disabled, grants changed). */
  forgetUser(user: string): void {
    for (const [key, { answer }] of this.cache) {
      const principal = answer.kind === 'bearer' ? answer.principal : answer.session?.principal;
      if (principal?.kind === 'user' && principal.id === user) this.cache.delete(key);
    }
  }

  /**
   * The cached answer, or one lookup shared by every concurrent caller with the same key:
   * when a token's answer expires under load (resolve serves thousands of requests a second
   * per token), one database query answers them all.
   */
  private cached(key: string, look: () => Promise<Answer>): Promise<Answer> {
    const hit = this.cache.get(key);
    if (hit && hit.until > this.now()) return Promise.resolve(hit.answer);
    const pending = this.inflight.get(key);
    if (pending) return pending;
    const started = this.lookUpAndKeep(key, look).finally(() => this.inflight.delete(key));
    this.inflight.set(key, started);
    return started;
  }

  private async lookUpAndKeep(key: string, look: () => Promise<Answer>): Promise<Answer> {
    const now = this.now();
    const answer = await look();
    this.cache.delete(key);
    while (this.cache.size >= this.maxEntries) {
      const oldest = this.cache.keys().next();
      if (oldest.done) break;
      this.cache.delete(oldest.value);
    }
    this.cache.set(key, { answer, until: now + this.ttlMs });
    return answer;
  }

  private async lookUpBearer(token: string): Promise<Principal | null> {
    if (!token.startsWith(USER_TOKEN_PREFIX)) {
      const agent = await activeAgentToken(this.db, token);
      return agent && { kind: 'agent', id: agent.tokenId, agent: agent.agent, scopes: agent.scopes };
    }
    const now = new Date(this.now());
    const found = await activeUserTokenByHash(this.db, sha256(token), now);
    if (!found) return null;
    await touchUserToken(this.db, found.token.id, now);
    return {
      kind: 'user',
      id: found.token.user,
      grants: capGrants(found.userGrants, { role: found.token.role, agent: found.token.agent }),
      via: 'token',
      tokenId: found.token.id,
    };
  }

  private async lookUpSession(secret: string): Promise<VerifiedSession | null> {
    const now = new Date(this.now());
    const found = await activeSessionBySecretHash(this.db, sha256(secret), now, this.sessionIdleMs);
    if (!found) return null;
    await touchSession(this.db, found.session.id, now);
    return {
      principal: {
        kind: 'user',
        id: found.session.user,
        grants: simplifyGrants(found.grants),
        via: 'session',
      },
      sessionId: found.session.id,
      csrfToken: csrfTokenFor(secret),
      expiresAt: found.session.expiresAt,
    };
  }
}

export function createPrincipalVerifier(db: Db, options?: PrincipalVerifierOptions): PrincipalVerifier {
  return new PrincipalVerifier(db, options);
}
