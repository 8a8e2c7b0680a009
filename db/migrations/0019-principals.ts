import { sql, type Kysely } from 'kysely';

// Frozen in time: this migration imports nothing from the app and uses Kysely<any>.
//
// People: users (the id is the user name that audit rows, approvals and claims record), their
// role grants (global when agent_id is null, else for one agent), personal tokens and console
// sessions. Secrets are stored only as hashes: passwords as scrypt strings that carry their
// salt and parameters, tokens and session ids as SHA-256 (they are 24+ random bytes, so a
// fast hash is enough). Agent tokens existed before the resolve scope: they were all-purpose
// tokens of their agent, so they get it.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create table users (
      id text primary key,
      display_name text not null default '',
      password_hash text,
      disabled_at timestamptz,
      created_at timestamptz not null default now(),
      created_by text not null
    );

    create table user_role_grants (
      user_id text not null references users(id),
      role text not null check (role in ('viewer', 'reviewer', 'approver', 'operator', 'admin')),
      agent_id text references agents(id),
      created_at timestamptz not null default now(),
      created_by text not null
    );
    -- One row per user, role and agent; coalesce makes the global grant (null) unique too.
    create unique index user_role_grants_unique on user_role_grants (user_id, role, coalesce(agent_id, ''));

    create table user_tokens (
      id text primary key,
      user_id text not null references users(id),
      token_sha256 text not null unique,
      -- The cap: null role = the user's roles; a non-null agent = only that agent.
      role text check (role in ('viewer', 'reviewer', 'approver', 'operator', 'admin')),
      agent_id text references agents(id),
      label text not null default '',
      created_at timestamptz not null default now(),
      created_by text not null,
      expires_at timestamptz,
      last_used_at timestamptz,
      revoked_at timestamptz
    );
    create index user_tokens_user on user_tokens (user_id);

    create table sessions (
      id text primary key,
      secret_sha256 text not null unique,
      user_id text not null references users(id),
      created_at timestamptz not null default now(),
      expires_at timestamptz not null,
      last_seen_at timestamptz not null default now(),
      revoked_at timestamptz,
      user_agent text,
      ip text
    );
    create index sessions_user on sessions (user_id);

    update agent_tokens set scopes = array_append(scopes, 'resolve') where not ('resolve' = any(scopes));
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`
    update agent_tokens set scopes = array_remove(scopes, 'resolve');
    drop table sessions;
    drop table user_tokens;
    drop table user_role_grants;
    drop table users;
  `.execute(db);
}
