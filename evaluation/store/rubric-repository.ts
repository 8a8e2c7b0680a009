import { canonicalJson, versionBefore } from '../../registry/artifact-kinds.js';
import { formatIssues } from '../../schemas/format-issues.js';
import { JUDGE_DIMENSIONS, rubricFor, type JudgeRubric } from '../judge-rubrics.js';
import { RubricDefinition, StoredRubric } from '../../schemas/rubric-definition.js';
import { inTransaction, lockAgent } from '../../registry/store/agent-repository.js';
import type { Db } from '../../db/connection.js';
import { UserError } from '../../schemas/user-error.js';

/**
 * Judge rubrics per agent: a version history per (agent, dimension) and an active pointer.
 * An agent with no row for a dimension is judged by the built-in rubric of
 * evaluation/judge-rubrics.ts; the first saved rubric stores that built-in as its baseline
 * version, so a rollback can always return to it.
 */

export interface RubricVersion {
  version: number;
  rubric: JudgeRubric;
  createdBy: string;
  reason: string;
  createdAt: Date | null;
}

export interface RubricHistory {
  dimension: string;
  /** The version the judge uses now. */
  active: number;
  /** True while the agent has never saved its own rubric for the dimension. */
  builtIn: boolean;
  versions: RubricVersion[];
}

export interface RubricMove {
  changed: boolean;
  from: number;
  to: number;
}

export function assertJudgeDimension(dimension: string): void {
  if (!JUDGE_DIMENSIONS.includes(dimension)) {
    throw new UserError(
      `Unknown rubric dimension "${dimension}"; nothing was changed. Known dimensions: ${JUDGE_DIMENSIONS.join(', ')}.`,
    );
  }
}

const toRubric = (stored: unknown): JudgeRubric => StoredRubric.parse(stored);

/** The rubrics the judge uses for the agent's dimensions: its active versions, else the built-ins. */
export async function activeRubrics(
  db: Db,
  agent: string,
  dimensions: readonly string[],
): Promise<Map<string, JudgeRubric>> {
  const rows =
    dimensions.length === 0
      ? []
      : await db
          .selectFrom('rubric_pointers')
          .innerJoin('rubric_versions', (j) =>
            j
              .onRef('rubric_versions.agent_id', '=', 'rubric_pointers.agent_id')
              .onRef('rubric_versions.dimension', '=', 'rubric_pointers.dimension')
              .onRef('rubric_versions.version', '=', 'rubric_pointers.version'),
          )
          .select(['rubric_pointers.dimension', 'rubric_versions.rubric'])
          .where('rubric_pointers.agent_id', '=', agent)
          .where('rubric_pointers.dimension', 'in', [...dimensions])
          .execute();
  const stored = new Map(rows.map((r) => [r.dimension, toRubric(r.rubric)]));
  return new Map(dimensions.map((d) => [d, stored.get(d) ?? rubricFor(d)]));
}

export async function activeRubric(db: Db, agent: string, dimension: string): Promise<JudgeRubric> {
  return (await activeRubrics(db, agent, [dimension])).get(dimension)!;
}

export async function rubricHistory(db: Db, agent: string, dimension: string): Promise<RubricHistory> {
  assertJudgeDimension(dimension);
  const rows = await db
    .selectFrom('rubric_versions')
    .selectAll()
    .where('agent_id', '=', agent)
    .where('dimension', '=', dimension)
    .orderBy('version')
    .execute();
  if (rows.length === 0) {
    const builtIn = rubricFor(dimension);
    return {
      dimension,
      active: builtIn.version,
      builtIn: true,
      versions: [
        {
          version: builtIn.version,
          rubric: builtIn,
          createdBy: 'flywheel',
          reason: 'built-in rubric',
          createdAt: null,
        },
      ],
    };
  }
  const pointer = await db
    .selectFrom('rubric_pointers')
    .select('version')
    .where('agent_id', '=', agent)
    .where('dimension', '=', dimension)
    .executeTakeFirst();
  return {
    dimension,
    active: pointer?.version ?? rows[0]!.version,
    builtIn: false,
    versions: rows.map((r) => ({
      version: r.version,
      rubric: toRubric(r.rubric),
      createdBy: r.created_by,
      reason: r.reason,
      createdAt: r.created_at,
    })),
  };
}

/** Stores the built-in rubric as the baseline version; returns the active version. Caller holds the lock. */
async function ensureBaseline(tx: Db, agent: string, dimension: string): Promise<number> {
  const builtIn = rubricFor(dimension);
  const inserted = await tx
    .insertInto('rubric_versions')
    .values({
      agent_id: agent,
      dimension,
      version: builtIn.version,
      rubric: JSON.stringify(builtIn),
      created_by: 'flywheel',
      reason: 'built-in rubric',
    })
    .onConflict((oc) => oc.doNothing())
    .returning('version')
    .executeTakeFirst();
  if (inserted) {
    await tx
      .insertInto('rubric_pointers')
      .values({ agent_id: agent, dimension, version: builtIn.version, updated_by: 'flywheel' })
      .onConflict((oc) => oc.doNothing())
      .execute();
  }
  const pointer = await tx
    .selectFrom('rubric_pointers')
    .select('version')
    .where('agent_id', '=', agent)
    .where('dimension', '=', dimension)
    .executeTakeFirstOrThrow();
  return pointer.version;
}

async function setPointer(tx: Db, agent: string, dimension: string, version: number, actor: string) {
  await tx
    .insertInto('rubric_pointers')
    .values({ agent_id: agent, dimension, version, updated_by: actor })
    .onConflict((oc) =>
      oc
        .columns(['agent_id', 'dimension'])
        .doUpdateSet({ version, updated_by: actor, updated_at: new Date() }),
    )
    .execute();
}

/**
 * Validates a rubric file and saves it as the dimension's next version, made active.
 * A rubric equal to the active one writes nothing. Bad input: UserError, no change.
 */
export async function saveRubricVersion(
  db: Db,
  agent: string,
  dimension: string,
  input: unknown,
  actor: string,
  reason: string,
): Promise<RubricMove> {
  assertJudgeDimension(dimension);
  const parsed = RubricDefinition.safeParse(input);
  if (!parsed.success) {
    throw new UserError(
      `The rubric is not valid, so nothing was changed: ${formatIssues(parsed.error, { root: '(top level)' })}`,
    );
  }
  const { version: _ignored, dimension: named, ...definition } = parsed.data;
  if (named !== undefined && named !== dimension) {
    throw new UserError(
      `The rubric file is for dimension "${named}" but is being saved for "${dimension}"; nothing was changed.`,
    );
  }
  return inTransaction(db, async (tx) => {
    await lockAgent(tx, agent);
    const from = await ensureBaseline(tx, agent, dimension);
    const history = await rubricHistory(tx, agent, dimension);
    const active = history.versions.find((v) => v.version === from)!.rubric;
    const same = (r: JudgeRubric) => {
      const { version: _v, ...rest } = r;
      return canonicalJson(rest);
    };
    const next: JudgeRubric = { ...definition, dimension, version: 0 };
    if (same(active) === same(next)) return { changed: false, from, to: from };
    const to = Math.max(...history.versions.map((v) => v.version)) + 1;
    await tx
      .insertInto('rubric_versions')
      .values({
        agent_id: agent,
        dimension,
        version: to,
        rubric: JSON.stringify({ ...next, version: to }),
        created_by: actor,
        reason,
      })
      .execute();
    await setPointer(tx, agent, dimension, to, actor);
    return { changed: true, from, to };
  });
}

/**
 * Points the dimension at one of its versions (a rollback, or forward again). `to`
 * defaults to the newest version below the active one. Errors (unknown dimension or
 * version, nothing earlier, already active) change nothing.
 */
export async function moveRubricPointer(
  db: Db,
  agent: string,
  dimension: string,
  to: number | undefined,
  actor: string,
): Promise<RubricMove> {
  assertJudgeDimension(dimension);
  return inTransaction(db, async (tx) => {
    await lockAgent(tx, agent);
    const history = await rubricHistory(tx, agent, dimension);
    const available = history.versions.map((v) => v.version);
    const target = to ?? versionBefore(available, history.active);
    if (target === null) {
      throw new UserError(
        `Rubric ${dimension} of ${agent} has no version before ${history.active} to roll back to; nothing was changed.`,
      );
    }
    if (!available.includes(target)) {
      throw new UserError(
        `Rubric ${dimension} of ${agent} has no version ${target}; nothing was changed. Versions: ${available.join(', ')}.`,
      );
    }
    if (target === history.active) {
      throw new UserError(
        `Rubric ${dimension} of ${agent} is already at version ${target}; nothing was changed.`,
      );
    }
    await setPointer(tx, agent, dimension, target, actor);
    return { changed: true, from: history.active, to: target };
  });
}
