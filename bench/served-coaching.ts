import { indexedMemories, type AgentCoachingIndex } from '../coaching/coaching-index-service.js';
import { CoachingRecall } from '../coaching/coaching-recall-service.js';
import { replayCoaching } from '../coaching/coaching-replay-service.js';
import type { SituationEmbedder } from '../coaching/situation-embedder.js';
import {
  coachingVersions,
  currentCoaching,
  type CurrentCoaching,
} from '../coaching/store/coaching-repository.js';
import type { Db } from '../db/connection.js';
import {
  coachingTraceId,
  CoachingSet,
  DEFAULT_RECALL_K,
  DEFAULT_RECALL_TOKENS,
  type CoachingSetMember,
} from '../schemas/coaching.js';
import { gateReportOfCycle } from '../release/store/gate-report-repository.js';
import type { HeldOutCoaching } from './true-success.js';

/**
 * The coaching a version is scored with on the held-out set (bench:flywheel's ground truth):
 * production's is the agent's active coaching, recalled by the product's replay
 * (`replayCoaching`, serve time's code and limits); a rollout's candidate is its version
 * with the coaching its share recalled: the active memories of the week's start and the
 * set, at the versions the gate evaluated.
 */

export interface ScoredCoaching extends HeldOutCoaching {
  /** `id@version` of every memory, sorted: with the prompt version, the key of a score. */
  key: string;
  members: CoachingSetMember[];
}

const keyOf = (members: readonly CoachingSetMember[]) => members.map(coachingTraceId).sort().join(',');

/** What production recalls now: the agent's active coaching. */
export async function productionCoaching(
  db: Db,
  agent: string,
  embedder: SituationEmbedder,
): Promise<ScoredCoaching> {
  const replay = await replayCoaching(db, agent, embedder, ['active']);
  return { ...replay, key: keyOf(replay.members) };
}

/** Given memories at given versions (whatever their status now), recalled as serve time recalls. */
export async function coachingAt(
  db: Db,
  agent: string,
  embedder: SituationEmbedder,
  members: readonly CoachingSetMember[],
): Promise<ScoredCoaching> {
  const rows: CurrentCoaching[] = [];
  for (const m of members) {
    const version = (await coachingVersions(db, m.id)).find((v) => v.version === m.version);
    if (!version) throw new Error(`coaching ${m.id} has no version ${m.version}`);
    rows.push({
      id: m.id,
      agent,
      version: m.version,
      createdAt: version.createdAt,
      changedAt: version.createdAt,
      current: version,
    });
  }
  const { memories, matrix } = await indexedMemories(rows, embedder);
  const index: AgentCoachingIndex = { agent, mark: null, memories, matrix, clusters: null, readAt: 0 };
  const recall = new CoachingRecall({ embedder, get: () => Promise.resolve(index) });
  return {
    size: memories.length,
    members: [...members],
    key: keyOf(members),
    recall: (messages) =>
      recall.recall(agent, {
        messages: [...messages],
        k: DEFAULT_RECALL_K,
        maxTokens: DEFAULT_RECALL_TOKENS,
      }),
  };
}

/**
 * The coaching a cycle's gate evaluated: every candidate it judged (`evaluated`), those it
 * released with the candidate (`released`, what a rollout carries) and those it retired
 * for making their eval examples worse (`retiredByGate`).
 */
export async function gatedCoachingSet(
  db: Db,
  cycleId: string,
): Promise<{ evaluated: CoachingSetMember[]; released: CoachingSetMember[]; retiredByGate: string[] }> {
  const row = await gateReportOfCycle(db, cycleId);
  const coaching = (
    row?.report as { coaching?: { set?: unknown; dropped?: unknown; members?: unknown } } | undefined
  )?.coaching;
  const parse = (x: unknown) => {
    const parsed = CoachingSet.safeParse(x ?? []);
    return parsed.success ? parsed.data : [];
  };
  const released = parse(coaching?.set);
  const dropped = parse(coaching?.dropped);
  const members = Array.isArray(coaching?.members)
    ? (coaching.members as { id?: unknown; retire?: unknown }[])
    : [];
  return {
    evaluated: [...released, ...dropped],
    released,
    retiredByGate: members
      .filter((m) => m.retire === true && typeof m.id === 'string')
      .map((m) => m.id as string),
  };
}

/** How many of the agent's memories are in each status now. */
export async function coachingCounts(
  db: Db,
  agent: string,
): Promise<{ active: number; candidate: number; retired: number }> {
  const rows = await currentCoaching(db, agent);
  const count = (s: string) => rows.filter((r) => r.current.status === s).length;
  return { active: count('active'), candidate: count('candidate'), retired: count('retired') };
}

/** The status of each of the given memories now. */
export async function statusesOf(
  db: Db,
  agent: string,
  ids: readonly string[],
): Promise<Map<string, string>> {
  const rows = await currentCoaching(db, agent);
  const wanted = new Set(ids);
  return new Map(rows.filter((r) => wanted.has(r.id)).map((r) => [r.id, r.current.status]));
}

/** What the week's gate saw, for the record: its eval size, both arms' means and the assertions that failed. */
export async function gateDetail(
  db: Db,
  cycleId: string,
): Promise<{
  evalExamples: number;
  candidate: Record<string, number>;
  baseline: Record<string, number>;
  failed: { name: string; detail: string }[];
} | null> {
  const row = await gateReportOfCycle(db, cycleId);
  if (!row) return null;
  const report = row.report as {
    evalExamples?: number;
    candidate?: Record<string, number>;
    baseline?: Record<string, number>;
    assertions?: { name: string; passed: boolean; gating?: boolean; detail: string }[];
  };
  return {
    evalExamples: report.evalExamples ?? 0,
    candidate: report.candidate ?? {},
    baseline: report.baseline ?? {},
    failed: (report.assertions ?? [])
      .filter((a) => !a.passed && a.gating !== false)
      .map((a) => ({ name: a.name, detail: a.detail })),
  };
}
