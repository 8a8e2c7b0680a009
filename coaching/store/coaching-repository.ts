import { sql } from 'kysely';
import type { Db } from '../../db/connection.js';
import type { CoachingVersionRow } from '../../db/database.js';
import {
  CoachingBehaviour,
  CoachingSet,
  CoachingStatus,
  ThresholdCalibration,
} from '../../schemas/coaching.js';
import { NotFoundError } from '../../schemas/user-error.js';

/**
 * Every query of the coaching tables. A memory's versions are immutable; `coaching.version`
 * points at the one in force and moves on every change (a new version) or rollback (an
 * earlier one). Writers lock the memory's row first, so two changes of one memory are
 * serialised and version numbers never collide. Every write bumps `changed_at`, which the
 * recall index of each API process polls.
 */

export interface CoachingVersion {
  version: number;
  situation: string;
  embedding: number[];
  embedder: string;
  behaviour: CoachingBehaviour;
  example: string | null;
  sourceTraceId: string | null;
  sourceStep: number | null;
  threshold: number;
  /** The threshold the author chose; differs from `threshold` once reviewers' marks moved it. */
  authorThreshold: number;
  /** How the author's threshold was chosen when nobody set it; null: someone did. */
  thresholdCalibration: ThresholdCalibration | null;
  status: CoachingStatus;
  createdBy: string;
  reason: string;
  createdAt: Date;
}

export interface CoachingRecord {
  id: string;
  agent: string;
  /** The version in force. */
  version: number;
  createdAt: Date;
  changedAt: Date;
}

/** The current version of one memory, as recall and listings read it. */
export interface CurrentCoaching extends CoachingRecord {
  current: CoachingVersion;
}

export type NewVersion = Omit<
  CoachingVersion,
  'version' | 'createdAt' | 'authorThreshold' | 'thresholdCalibration'
> & {
  /** Absent: the threshold is the author's. */
  authorThreshold?: number;
  /** Absent: the author set the threshold. */
  thresholdCalibration?: ThresholdCalibration | null;
};

const toVersion = (r: CoachingVersionRow): CoachingVersion => ({
  version: r.version,
  situation: r.situation,
  embedding: r.embedding,
  embedder: r.embedder,
  behaviour: CoachingBehaviour.parse(r.behaviour),
  example: r.example,
  sourceTraceId: r.source_trace_id,
  sourceStep: r.source_step,
  threshold: r.threshold,
  authorThreshold: r.author_threshold ?? r.threshold,
  thresholdCalibration:
    r.threshold_calibration === null ? null : ThresholdCalibration.parse(r.threshold_calibration),
  status: CoachingStatus.parse(r.status),
  createdBy: r.created_by,
  reason: r.reason,
  createdAt: r.created_at,
});

/** A memory with one of its versions, as the joined queries below read them. */
const toCurrent = (
  r: CoachingVersionRow & { id: string; agent_id: string; coaching_created_at: Date; changed_at: Date },
): CurrentCoaching => ({
  id: r.id,
  agent: r.agent_id,
  version: r.version,
  createdAt: r.coaching_created_at,
  changedAt: r.changed_at,
  current: toVersion(r),
});

const versionValues = (id: string, version: number, v: NewVersion) => ({
  coaching_id: id,
  version,
  situation: v.situation,
  embedding: v.embedding,
  embedder: v.embedder,
  behaviour: JSON.stringify(v.behaviour),
  example: v.example,
  source_trace_id: v.sourceTraceId,
  source_step: v.sourceStep,
  threshold: v.threshold,
  author_threshold:
    v.authorThreshold === undefined || v.authorThreshold === v.threshold ? null : v.authorThreshold,
  threshold_calibration: v.thresholdCalibration ? JSON.stringify(v.thresholdCalibration) : null,
  status: v.status,
  created_by: v.createdBy,
  reason: v.reason,
});

/** A new memory at version 1. Call inside a transaction (the pointer's foreign key is deferred). */
export async function insertCoaching(tx: Db, id: string, agent: string, first: NewVersion): Promise<void> {
  await tx.insertInto('coaching').values({ id, agent_id: agent, version: 1 }).execute();
  await tx
    .insertInto('coaching_versions')
    .values(versionValues(id, 1, first))
    .execute();
}

/** Locks the memory's row for the rest of the transaction; 404 when it is not the agent's. */
export async function lockCoaching(tx: Db, agent: string, id: string): Promise<CoachingRecord> {
  const row = await tx
    .selectFrom('coaching')
    .selectAll()
    .where('id', '=', id)
    .where('agent_id', '=', agent)
    .forUpdate()
    .executeTakeFirst();
  if (!row)
    throw new NotFoundError(
      `Agent ${agent} has no coaching ${id}; list them with \`flywheel coaching list ${agent}\`.`,
    );
  return {
    id: row.id,
    agent: row.agent_id,
    version: row.version,
    createdAt: row.created_at,
    changedAt: row.changed_at,
  };
}

export async function coachingVersions(db: Db, id: string): Promise<CoachingVersion[]> {
  const rows = await db
    .selectFrom('coaching_versions')
    .selectAll()
    .where('coaching_id', '=', id)
    .orderBy('version')
    .execute();
  return rows.map(toVersion);
}

/** Writes `next` as the memory's next version and points at it; returns its number. */
export async function appendCoachingVersion(tx: Db, id: string, next: NewVersion): Promise<number> {
  const { max } = await tx
    .selectFrom('coaching_versions')
    .select((eb) => eb.fn.max<number>('version').as('max'))
    .where('coaching_id', '=', id)
    .executeTakeFirstOrThrow();
  const version = Number(max) + 1;
  await tx
    .insertInto('coaching_versions')
    .values(versionValues(id, version, next))
    .execute();
  await pointAt(tx, id, version);
  return version;
}

/** Points the memory at one of its versions (a rollback). */
export async function pointAt(tx: Db, id: string, version: number): Promise<void> {
  await tx
    .updateTable('coaching')
    .set({ version, changed_at: sql<Date>`clock_timestamp()` })
    .where('id', '=', id)
    .execute();
}

/** The agent's memories at their current version, oldest first; `status` filters on it. */
export async function currentCoaching(
  db: Db,
  agent: string,
  options: { status?: CoachingStatus; id?: string } = {},
): Promise<CurrentCoaching[]> {
  let q = db
    .selectFrom('coaching')
    .innerJoin('coaching_versions', (j) =>
      j
        .onRef('coaching_versions.coaching_id', '=', 'coaching.id')
        .onRef('coaching_versions.version', '=', 'coaching.version'),
    )
    .selectAll('coaching_versions')
    .select([
      'coaching.id',
      'coaching.agent_id',
      'coaching.created_at as coaching_created_at',
      'coaching.changed_at',
    ])
    .where('coaching.agent_id', '=', agent);
  if (options.status) q = q.where('coaching_versions.status', '=', options.status);
  if (options.id) q = q.where('coaching.id', '=', options.id);
  const rows = await q.orderBy('coaching.created_at').orderBy('coaching.id').execute();
  return rows.map(toCurrent);
}

/**
 * Per agent, a mark of its memories' state: how many, the sum of their current versions and
 * the newest change. Any write changes it (the sum catches two changes whose times commit
 * out of order), so a recall index built under another mark is stale.
 */
export async function coachingMarks(db: Db, agents: readonly string[]): Promise<Map<string, string>> {
  if (agents.length === 0) return new Map();
  const rows = await db
    .selectFrom('coaching')
    .select((eb) => [
      'agent_id',
      eb.fn.max<Date>('changed_at').as('changed_at'),
      eb.fn.countAll<string>().as('count'),
      eb.fn.sum<string>('version').as('versions'),
      // A staged rollout that starts or ends with a coaching set changes what recall serves.
      sql<string | null>`(select string_agg(r.id, ',' order by r.id) from rollouts r
        where r.agent_id = coaching.agent_id and r.status = 'running' and r.coaching is not null)`.as(
        'rollouts',
      ),
    ])
    .where('agent_id', 'in', [...agents])
    .groupBy('agent_id')
    .execute();
  return new Map(
    rows.map((r) => [
      r.agent_id,
      `${r.count}/${r.versions}/${new Date(r.changed_at).toISOString()}${r.rollouts ? `|${r.rollouts}` : ''}`,
    ]),
  );
}

/** How many of the agent's memories have `status` at their current version. */
export async function coachingCount(db: Db, agent: string, status: CoachingStatus): Promise<number> {
  const { n } = await db
    .selectFrom('coaching')
    .innerJoin('coaching_versions', (j) =>
      j
        .onRef('coaching_versions.coaching_id', '=', 'coaching.id')
        .onRef('coaching_versions.version', '=', 'coaching.version'),
    )
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('coaching.agent_id', '=', agent)
    .where('coaching_versions.status', '=', status)
    .executeTakeFirstOrThrow();
  return Number(n);
}

/** A running rollout's coaching set: its memories at the versions its gate evaluated. */
export interface RolloutCoachingSet {
  rolloutId: string;
  /** The prompt version the rollout's candidate share is served. */
  candidateVersionId: string;
  rows: CurrentCoaching[];
}

/** The coaching sets of the agent's running rollouts (at most one runs per agent). */
export async function runningCoachingSets(db: Db, agent: string): Promise<RolloutCoachingSet[]> {
  const rollouts = await db
    .selectFrom('rollouts')
    .select(['id', 'candidate_version_id', 'coaching'])
    .where('agent_id', '=', agent)
    .where('status', '=', 'running')
    .where('coaching', 'is not', null)
    .orderBy('id')
    .execute();
  const out: RolloutCoachingSet[] = [];
  for (const r of rollouts) {
    const members = CoachingSet.parse(r.coaching);
    if (members.length === 0) continue;
    const rows = await coachingAtVersions(db, agent, members);
    out.push({ rolloutId: r.id, candidateVersionId: r.candidate_version_id, rows });
  }
  return out;
}

/**
 * Memories of the agent at the given versions (a coaching set as its gate evaluated it),
 * each reported at that version; members that are not the agent's are left out.
 */
export async function coachingAtVersions(
  db: Db,
  agent: string,
  members: CoachingSet,
): Promise<CurrentCoaching[]> {
  if (members.length === 0) return [];
  const rows = await db
    .selectFrom('coaching')
    .innerJoin('coaching_versions', 'coaching_versions.coaching_id', 'coaching.id')
    .selectAll('coaching_versions')
    .select([
      'coaching.id',
      'coaching.agent_id',
      'coaching.created_at as coaching_created_at',
      'coaching.changed_at',
    ])
    .where('coaching.agent_id', '=', agent)
    .where((eb) =>
      eb.or(
        members.map((m) =>
          eb.and([eb('coaching.id', '=', m.id), eb('coaching_versions.version', '=', m.version)]),
        ),
      ),
    )
    .orderBy('coaching.created_at')
    .orderBy('coaching.id')
    .execute();
  return rows.map(toCurrent);
}
