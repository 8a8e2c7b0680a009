import { sql } from 'kysely';
import type { Db } from './connection.js';
import type { PromptVersion } from './database.js';

export const promptVersionId = (agent: string, version: number) => `${agent}@v${version}`;

export async function labelledVersion(
  db: Db,
  agent: string,
  label: string,
): Promise<PromptVersion | undefined> {
  return db
    .selectFrom('prompt_labels')
    .innerJoin('prompt_versions', 'prompt_versions.id', 'prompt_labels.prompt_version_id')
    .selectAll('prompt_versions')
    .where('prompt_labels.agent_id', '=', agent)
    .where('prompt_labels.label', '=', label)
    .executeTakeFirst();
}

export async function versionById(db: Db, id: string): Promise<PromptVersion> {
  return db.selectFrom('prompt_versions').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
}

/**
 * Registers a new immutable version. Idempotent per candidate: a retried activity finds the
 * version it created before instead of creating a second one.
 */
export async function createPromptVersion(
  db: Db,
  agent: string,
  text: string,
  source: PromptVersion['source'],
  candidateId: string | null,
): Promise<PromptVersion> {
  return db.transaction().execute(async (tx) => {
    if (candidateId) {
      const existing = await tx
        .selectFrom('prompt_versions')
        .selectAll()
        .where('candidate_id', '=', candidateId)
        .executeTakeFirst();
      if (existing) return existing;
    }
    // Serialise version numbering per agent.
    await sql`select pg_advisory_xact_lock(hashtext(${agent}))`.execute(tx);
    const { max } = await tx
      .selectFrom('prompt_versions')
      .select((eb) => eb.fn.max('version').as('max'))
      .where('agent_id', '=', agent)
      .executeTakeFirstOrThrow();
    const version = (max ?? 0) + 1;
    return tx
      .insertInto('prompt_versions')
      .values({
        id: promptVersionId(agent, version),
        agent_id: agent,
        version,
        text,
        source,
        candidate_id: candidateId,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
  });
}

/** Labels are movable pointers; every move is audited. Removing a label passes null. */
export async function moveLabel(
  db: Db,
  agent: string,
  label: string,
  versionId: string | null,
  actor: string,
  why: string,
): Promise<void> {
  await db.transaction().execute(async (tx) => {
    const before = await tx
      .selectFrom('prompt_labels')
      .select('prompt_version_id')
      .where('agent_id', '=', agent)
      .where('label', '=', label)
      .executeTakeFirst();
    if ((before?.prompt_version_id ?? null) === versionId) return;
    if (versionId === null) {
      await tx.deleteFrom('prompt_labels').where('agent_id', '=', agent).where('label', '=', label).execute();
    } else {
      await tx
        .insertInto('prompt_labels')
        .values({ agent_id: agent, label, prompt_version_id: versionId })
        .onConflict((oc) =>
          oc
            .columns(['agent_id', 'label'])
            .doUpdateSet({ prompt_version_id: versionId, updated_at: new Date() }),
        )
        .execute();
    }
    await tx
      .insertInto('audit_log')
      .values({
        actor,
        action: 'move_label',
        artifact: `prompt:${agent}:${label}`,
        detail: JSON.stringify({ from: before?.prompt_version_id ?? null, to: versionId, why }),
      })
      .execute();
  });
}
