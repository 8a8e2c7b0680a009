import { sql, type Kysely } from 'kysely';
import type { LabelMove } from '../label-move-message.js';
import { MovableLabel } from '../../schemas/prompt.js';
import type { Db } from '../../db/connection.js';
import type { Database } from '../../db/database.js';
import { formatIssues } from '../../schemas/format-issues.js';
import { ConflictError, NotFoundError, UserError } from '../../schemas/user-error.js';

/**
 * prompt_labels: movable pointers from (prompt name, label) to a version. Every move runs in
 * a transaction that takes the prompt's advisory lock (the same lock version numbering
 * takes), so moves of one prompt are serialised, and writes its audit_log row in that
 * transaction. Nothing here announces: the webhook notice follows the commit, from
 * `registry/label-move-service.ts`.
 */

const artifactOf = (name: string, label: string) => `prompt:${name}/label:${label}`;
/** How moves were audited before the registry (the agent's prompt only). */
const legacyArtifactOf = (name: string, label: string) => `prompt:${name}:${label}`;

async function lockPrompt(tx: Kysely<Database>, name: string): Promise<void> {
  await sql`select pg_advisory_xact_lock(hashtext(${`prompt:${name}`}))`.execute(tx);
}

async function ownerOf(tx: Kysely<Database>, name: string): Promise<string> {
  const row = await tx
    .selectFrom('prompt_versions')
    .select('agent_id')
    .where('name', '=', name)
    .limit(1)
    .executeTakeFirst();
  if (!row)
    throw new NotFoundError(
      `No prompt named "${name}"; list them with \`flywheel prompt list\` or GET /api/prompts.`,
    );
  return row.agent_id;
}

async function versionIdOf(tx: Kysely<Database>, name: string, version: number): Promise<string> {
  const row = await tx
    .selectFrom('prompt_versions')
    .select('id')
    .where('name', '=', name)
    .where('version', '=', version)
    .executeTakeFirst();
  if (row) return row.id;
  const { max } = await tx
    .selectFrom('prompt_versions')
    .select((eb) => eb.fn.max('version').as('max'))
    .where('name', '=', name)
    .executeTakeFirstOrThrow();
  throw new NotFoundError(`Prompt "${name}" has no version ${version}; its versions are 1 to ${max ?? 0}.`);
}

/**
 * Points `label` of prompt `name` at a version (or removes it with null) and audits who, what,
 * when, from → to and why, inside the caller's transaction. Returns null when nothing changes.
 */
export async function applyLabelMove(
  tx: Kysely<Database>,
  args: {
    name: string;
    label: string;
    versionId: string | null;
    actor: string;
    reason: string;
    action: LabelMove['action'];
  },
): Promise<LabelMove | null> {
  const label = MovableLabel.safeParse(args.label);
  if (!label.success)
    throw new UserError(`Invalid label "${args.label}": ${formatIssues(label.error, { root: '' })}.`);
  await lockPrompt(tx, args.name);
  const agent = await ownerOf(tx, args.name);
  const target = args.versionId
    ? await tx
        .selectFrom('prompt_versions')
        .select(['id', 'name', 'version'])
        .where('id', '=', args.versionId)
        .executeTakeFirst()
    : null;
  if (args.versionId && !target)
    throw new NotFoundError(`Prompt version "${args.versionId}" does not exist.`);
  if (target && target.name !== args.name)
    throw new UserError(`Version ${target.id} belongs to prompt "${target.name}", not "${args.name}".`);
  const before = await tx
    .selectFrom('prompt_labels')
    .innerJoin('prompt_versions', 'prompt_versions.id', 'prompt_labels.prompt_version_id')
    .select(['prompt_versions.id', 'prompt_versions.version'])
    .where('prompt_labels.prompt_name', '=', args.name)
    .where('prompt_labels.label', '=', args.label)
    .executeTakeFirst();
  if ((before?.id ?? null) === (target?.id ?? null)) return null;
  if (target) {
    await tx
      .insertInto('prompt_labels')
      .values({ agent_id: agent, prompt_name: args.name, label: args.label, prompt_version_id: target.id })
      .onConflict((oc) =>
        oc
          .columns(['prompt_name', 'label'])
          .doUpdateSet({ prompt_version_id: target.id, updated_at: new Date() }),
      )
      .execute();
  } else {
    await tx
      .deleteFrom('prompt_labels')
      .where('prompt_name', '=', args.name)
      .where('label', '=', args.label)
      .execute();
  }
  const from = before ? { id: before.id, version: before.version } : null;
  const to = target ? { id: target.id, version: target.version } : null;
  const audit = await tx
    .insertInto('audit_log')
    .values({
      actor: args.actor,
      action: args.action,
      artifact: artifactOf(args.name, args.label),
      detail: JSON.stringify({
        prompt: args.name,
        label: args.label,
        from: from?.id ?? null,
        to: to?.id ?? null,
        fromVersion: from?.version ?? null,
        toVersion: to?.version ?? null,
        why: args.reason,
      }),
    })
    .returning(['id', 'created_at'])
    .executeTakeFirstOrThrow();
  return {
    auditId: String(audit.id),
    action: args.action,
    name: args.name,
    agent,
    label: args.label,
    from,
    to,
    actor: args.actor,
    reason: args.reason,
    at: new Date(audit.created_at).toISOString(),
  };
}

/** Points a label at version number `version` of prompt `name`; audited. */
export function setLabel(
  db: Db,
  args: { name: string; label: string; version: number; actor: string; reason: string },
): Promise<LabelMove | null> {
  return db.transaction().execute(async (tx) => {
    await ownerOf(tx, args.name);
    const versionId = await versionIdOf(tx, args.name, args.version);
    return applyLabelMove(tx, { ...args, versionId, action: 'prompt.label.move' });
  });
}

/**
 * Labels are movable pointers; every move is audited. Removing a label passes null. The
 * signature predates the registry: `agent` names the agent's own prompt, which is the
 * prompt of `versionId` when one is given.
 */
export function moveLabel(
  db: Db,
  agent: string,
  label: string,
  versionId: string | null,
  actor: string,
  why: string,
): Promise<LabelMove | null> {
  return db.transaction().execute(async (tx) => {
    const name = versionId
      ? ((
          await tx.selectFrom('prompt_versions').select('name').where('id', '=', versionId).executeTakeFirst()
        )?.name ?? agent)
      : agent;
    return applyLabelMove(tx, { name, label, versionId, actor, reason: why, action: 'prompt.label.move' });
  });
}

/**
 * Moves a label back: to version `to`, or by default to where it pointed before its last move
 * (so two rollbacks in a row toggle). Refuses, changing nothing, when there is no such version.
 */
export function rollbackLabel(
  db: Db,
  args: { name: string; label?: string; to?: number; actor: string; reason: string },
): Promise<LabelMove | null> {
  const label = args.label ?? 'production';
  return db.transaction().execute(async (tx) => {
    await lockPrompt(tx, args.name);
    await ownerOf(tx, args.name);
    const current = await tx
      .selectFrom('prompt_labels')
      .select('prompt_version_id')
      .where('prompt_name', '=', args.name)
      .where('label', '=', label)
      .executeTakeFirst();
    let targetId: string;
    if (args.to !== undefined) {
      targetId = await versionIdOf(tx, args.name, args.to);
    } else {
      const last = await tx
        .selectFrom('audit_log')
        .select('detail')
        .where('artifact', 'in', [artifactOf(args.name, label), legacyArtifactOf(args.name, label)])
        .orderBy('created_at', 'desc')
        .orderBy('id', 'desc')
        .limit(1)
        .executeTakeFirst();
      const previous = (last?.detail as { from?: unknown } | undefined)?.from;
      if (typeof previous !== 'string')
        throw new ConflictError(
          `Label "${label}" of prompt "${args.name}" has no earlier version to roll back to; name the version to go back to ("to" in the API, --to in the CLI).`,
        );
      targetId = previous;
    }
    if (current?.prompt_version_id === targetId)
      throw new ConflictError(
        `Label "${label}" of prompt "${args.name}" already points at ${targetId}; nothing to roll back.`,
      );
    return applyLabelMove(tx, {
      name: args.name,
      label,
      versionId: targetId,
      actor: args.actor,
      reason: args.reason,
      action: 'prompt.label.rollback',
    });
  });
}

/** Where the `production` label of each of `names` points, for the routing snapshots. */
export function productionLabels(db: Db, names: readonly string[]) {
  return db
    .selectFrom('prompt_labels')
    .select(['prompt_name', 'prompt_version_id'])
    .where('label', '=', 'production')
    .where('prompt_name', 'in', [...names])
    .execute();
}

/** One audited move of one of a prompt's labels, as the history shows it. */
export interface LabelMoveRecord {
  auditId: string;
  label: string;
  action: string;
  fromVersion: number | null;
  toVersion: number | null;
  actor: string;
  reason: string;
  at: string;
}

const likeLiteral = (text: string) => text.replace(/[\\%_]/g, (c) => `\\${c}`);
const versionOf = (value: unknown): number | null => (typeof value === 'number' ? value : null);

/**
 * Every audited move of the prompt's labels, newest first (at most `limit`): moves through
 * the registry and the agent-prompt moves audited before it (`prompt:<agent>:<label>`).
 */
export async function labelMoveHistory(db: Db, name: string, limit: number): Promise<LabelMoveRecord[]> {
  const rows = await db
    .selectFrom('audit_log')
    .select(['id', 'actor', 'action', 'artifact', 'detail', 'created_at'])
    .where((eb) =>
      eb.or([
        eb('artifact', 'like', `${likeLiteral(artifactOf(name, ''))}%`),
        eb('artifact', 'like', `${likeLiteral(legacyArtifactOf(name, ''))}%`),
      ]),
    )
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(limit)
    .execute();
  return rows.map((r) => {
    const detail = (r.detail ?? {}) as Record<string, unknown>;
    const label =
      typeof detail.label === 'string' ? detail.label : r.artifact.slice(r.artifact.lastIndexOf(':') + 1);
    return {
      auditId: String(r.id),
      label,
      action: r.action,
      fromVersion: versionOf(detail.fromVersion),
      toVersion: versionOf(detail.toVersion),
      actor: r.actor,
      reason: typeof detail.why === 'string' ? detail.why : '',
      at: new Date(r.created_at).toISOString(),
    };
  });
}
