import { sql } from 'kysely';
import type { Db } from '../../db/connection.js';
import type { PromptVersion } from '../../db/database.js';
import { applyLabelMove } from './prompt-labels.js';
import { IMPLICIT_LABEL, type ChatMessage, type PromptType } from '../../schemas/prompt.js';
import type { LabelMove } from '../label-move-message.js';
import { ConflictError, NotFoundError, UserError } from '../../schemas/user-error.js';

export const promptVersionId = (name: string, version: number) => `${name}@v${version}`;

/** The version a label points at; `latest` is the highest version. The agent's own prompt is named after it. */
export async function labelledVersion(
  db: Db,
  agent: string,
  label: string,
): Promise<PromptVersion | undefined> {
  return promptVersion(db, agent, { label });
}

/** One version of a prompt by number or by label (`latest` included). */
export async function promptVersion(
  db: Db,
  name: string,
  selector: { version?: number; label?: string },
): Promise<PromptVersion | undefined> {
  if (selector.version !== undefined)
    return db
      .selectFrom('prompt_versions')
      .selectAll()
      .where('name', '=', name)
      .where('version', '=', selector.version)
      .executeTakeFirst();
  const label = selector.label ?? 'production';
  if (label === IMPLICIT_LABEL)
    return db
      .selectFrom('prompt_versions')
      .selectAll()
      .where('name', '=', name)
      .orderBy('version', 'desc')
      .limit(1)
      .executeTakeFirst();
  return db
    .selectFrom('prompt_labels')
    .innerJoin('prompt_versions', 'prompt_versions.id', 'prompt_labels.prompt_version_id')
    .selectAll('prompt_versions')
    .where('prompt_labels.prompt_name', '=', name)
    .where('prompt_labels.label', '=', label)
    .executeTakeFirst();
}

export async function versionById(db: Db, id: string): Promise<PromptVersion> {
  return db.selectFrom('prompt_versions').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
}

/** Labels per version id of one prompt, `latest` included on the highest version. */
export async function labelsByVersion(db: Db, name: string): Promise<Map<string, string[]>> {
  const [rows, latest] = await Promise.all([
    db
      .selectFrom('prompt_labels')
      .select(['label', 'prompt_version_id'])
      .where('prompt_name', '=', name)
      .orderBy('label')
      .execute(),
    promptVersion(db, name, { label: IMPLICIT_LABEL }),
  ]);
  const byVersion = new Map<string, string[]>();
  for (const r of rows)
    byVersion.set(r.prompt_version_id, [...(byVersion.get(r.prompt_version_id) ?? []), r.label]);
  if (latest) byVersion.set(latest.id, [...(byVersion.get(latest.id) ?? []), IMPLICIT_LABEL]);
  return byVersion;
}

/** What a chat prompt looks like in a diff: each message under its role. */
export function renderChat(messages: readonly ChatMessage[]): string {
  return messages.map((m) => `[${m.role}]\n${m.content}`).join('\n\n');
}

export interface NewPromptVersion {
  name: string;
  /** Owner; defaults to the prompt's existing owner, or to `name` when an agent has that id. */
  agent?: string;
  type: PromptType;
  prompt: string | ChatMessage[];
  config?: Record<string, unknown>;
  tags?: string[];
  commitMessage?: string | null;
  createdBy: string;
  source: PromptVersion['source'];
  candidateId?: string | null;
  /** Labels to point at the new version, in the same transaction. */
  labels?: string[];
}

/**
 * Registers a new immutable version (numbered per prompt name) and optionally labels it;
 * the label moves are audited, not announced (`registry/label-move-service.ts` announces).
 * Idempotent per optimizer candidate: a retried activity finds the version it created.
 */
export function createVersion(
  db: Db,
  input: NewPromptVersion,
): Promise<{ version: PromptVersion; moves: LabelMove[] }> {
  return db.transaction().execute(async (tx) => {
    if (input.candidateId) {
      const existing = await tx
        .selectFrom('prompt_versions')
        .selectAll()
        .where('candidate_id', '=', input.candidateId)
        .executeTakeFirst();
      if (existing) return { version: existing, moves: [] };
    }
    // Serialise version numbering (and the owner check) per prompt name.
    await sql`select pg_advisory_xact_lock(hashtext(${`prompt:${input.name}`}))`.execute(tx);
    const owner = await tx
      .selectFrom('prompt_versions')
      .select('agent_id')
      .where('name', '=', input.name)
      .limit(1)
      .executeTakeFirst();
    const namesAgent = await tx
      .selectFrom('agents')
      .select('id')
      .where('id', '=', input.name)
      .executeTakeFirst();
    const agent = input.agent ?? owner?.agent_id ?? namesAgent?.id;
    if (!agent)
      throw new UserError(
        `"${input.name}" is a new prompt and no agent has that id: say which agent owns it (agent).`,
      );
    if (owner && owner.agent_id !== agent)
      throw new ConflictError(
        `Prompt "${input.name}" belongs to agent "${owner.agent_id}", not "${agent}"; choose another name.`,
      );
    if (namesAgent && agent !== input.name)
      throw new ConflictError(
        `"${input.name}" is the system prompt of agent "${input.name}"; register agent "${agent}"'s prompt under another name.`,
      );
    const known = await tx.selectFrom('agents').select('id').where('id', '=', agent).executeTakeFirst();
    if (!known)
      throw new NotFoundError(
        `Unknown agent "${agent}": register it first with flywheel agent create ${agent} (POST /api/agents).`,
      );
    const { max } = await tx
      .selectFrom('prompt_versions')
      .select((eb) => eb.fn.max('version').as('max'))
      .where('name', '=', input.name)
      .executeTakeFirstOrThrow();
    const number = (max ?? 0) + 1;
    const chat = input.type === 'chat' ? (input.prompt as ChatMessage[]) : null;
    const version = await tx
      .insertInto('prompt_versions')
      .values({
        id: promptVersionId(input.name, number),
        name: input.name,
        agent_id: agent,
        version: number,
        type: input.type,
        text: chat ? renderChat(chat) : (input.prompt as string),
        messages: chat ? JSON.stringify(chat) : null,
        config: JSON.stringify(input.config ?? {}),
        tags: input.tags ?? [],
        commit_message: input.commitMessage ?? null,
        created_by: input.createdBy,
        source: input.source,
        candidate_id: input.candidateId ?? null,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    const moves: LabelMove[] = [];
    for (const label of input.labels ?? []) {
      const move = await applyLabelMove(tx, {
        name: input.name,
        label,
        versionId: version.id,
        actor: input.createdBy,
        reason: input.commitMessage ?? `created v${number}`,
        action: 'prompt.label.move',
      });
      if (move) moves.push(move);
    }
    return { version, moves };
  });
}

/** The agent's system prompt as before the registry: a text version named after the agent. */
export async function createPromptVersion(
  db: Db,
  agent: string,
  text: string,
  source: PromptVersion['source'],
  candidateId: string | null,
): Promise<PromptVersion> {
  const { version } = await createVersion(db, {
    name: agent,
    agent,
    type: 'text',
    prompt: text,
    createdBy: source === 'optimizer' ? 'flywheel' : source,
    commitMessage: candidateId ? `optimizer candidate ${candidateId}` : null,
    source,
    candidateId,
  });
  return version;
}

export interface PromptSummary {
  name: string;
  agent: string;
  type: PromptType;
  versions: number;
  latest: number;
  labels: Record<string, number>;
  tags: string[];
  lastUpdatedAt: string;
}

/** Every prompt with its version count, labels (and where they point) and the latest version's tags. */
export async function listPrompts(db: Db, agent?: string): Promise<PromptSummary[]> {
  let q = db
    .selectFrom('prompt_versions as v')
    .select((eb) => [
      'v.name',
      eb.fn.count<string>('v.id').as('versions'),
      eb.fn.max('v.version').as('latest'),
      eb.fn.max('v.created_at').as('last_updated_at'),
    ])
    .groupBy('v.name')
    .orderBy('v.name');
  if (agent) q = q.where('v.agent_id', '=', agent);
  const groups = await q.execute();
  if (groups.length === 0) return [];
  const names = groups.map((g) => g.name);
  const [latestRows, labelRows] = await Promise.all([
    db
      .selectFrom('prompt_versions')
      .select(['name', 'agent_id', 'type', 'tags', 'version'])
      .where('name', 'in', names)
      // The highest version of each name.
      .distinctOn('name')
      .orderBy('name')
      .orderBy('version', 'desc')
      .execute(),
    db
      .selectFrom('prompt_labels')
      .innerJoin('prompt_versions', 'prompt_versions.id', 'prompt_labels.prompt_version_id')
      .select(['prompt_labels.prompt_name', 'prompt_labels.label', 'prompt_versions.version'])
      .where('prompt_labels.prompt_name', 'in', names)
      .execute(),
  ]);
  const latest = new Map(latestRows.map((r) => [r.name, r]));
  return groups.map((g) => {
    const head = latest.get(g.name);
    const labels: Record<string, number> = {};
    for (const l of labelRows.filter((r) => r.prompt_name === g.name)) labels[l.label] = l.version;
    labels[IMPLICIT_LABEL] = Number(g.latest);
    return {
      name: g.name,
      agent: head?.agent_id ?? '',
      type: head?.type ?? 'text',
      versions: Number(g.versions),
      latest: Number(g.latest),
      labels,
      tags: head?.tags ?? [],
      lastUpdatedAt: new Date(g.last_updated_at).toISOString(),
    };
  });
}

/** Which of `names` have at least one version. */
export function existingPromptNames(db: Db, names: readonly string[]) {
  return db
    .selectFrom('prompt_versions')
    .select('name')
    .distinct()
    .where('name', 'in', [...names])
    .execute();
}

/** The servable part of versions (body and config), by ID; versions are immutable. */
export function servedVersionRows(db: Db, ids: readonly string[]) {
  return db
    .selectFrom('prompt_versions')
    .select(['id', 'name', 'version', 'type', 'text', 'messages', 'config'])
    .where('id', 'in', [...ids])
    .execute();
}

/** Version number `version` among the agent's prompt versions, if any. */
export function agentPromptVersion(db: Db, agent: string, version: number) {
  return db
    .selectFrom('prompt_versions')
    .select(['id', 'version'])
    .where('agent_id', '=', agent)
    .where('version', '=', version)
    .executeTakeFirst();
}

/** Every version of one of the agent's prompts, oldest first. */
export function promptVersionHistory(db: Db, agent: string, name: string) {
  return db
    .selectFrom('prompt_versions')
    .select(['version', 'id', 'created_by', 'commit_message', 'created_at'])
    .where('agent_id', '=', agent)
    .where('name', '=', name)
    .orderBy('version')
    .execute();
}

/** The agent that owns prompt `name`, or undefined when no prompt has that name. */
export async function promptAgent(db: Db, name: string): Promise<string | undefined> {
  const row = await db
    .selectFrom('prompt_versions')
    .select('agent_id')
    .where('name', '=', name)
    .limit(1)
    .executeTakeFirst();
  return row?.agent_id;
}

/** Every version of prompt `name`, newest first, without the bodies (a list, not a viewer). */
export function promptVersionList(db: Db, name: string) {
  return db
    .selectFrom('prompt_versions')
    .select([
      'id',
      'agent_id',
      'version',
      'type',
      'source',
      'tags',
      'commit_message',
      'created_by',
      'created_at',
      'candidate_id',
    ])
    .where('name', '=', name)
    .orderBy('version', 'desc')
    .execute();
}
