import type { Db } from '../db/connection.js';
import {
  DEFAULT_RECALL_K,
  DEFAULT_RECALL_TOKENS,
  type CoachingSet,
  type CoachingSetMember,
  type CoachingStatus,
  type RecallAnswer,
  type RecallMessage,
} from '../schemas/coaching.js';
import type { AgentCoachingIndex } from './coaching-index-service.js';
import { indexedMemories } from './coaching-index-service.js';
import { CoachingRecall } from './coaching-recall-service.js';
import type { SituationEmbedder } from './situation-embedder.js';
import { coachingAtVersions, currentCoaching, type CurrentCoaching } from './store/coaching-repository.js';

/** A set of one agent's memories, recalled for replayed conversations as agents recall them. */
export interface ReplayCoaching {
  /** How many memories the set holds. */
  size: number;
  /** Its memories at the versions recalled. */
  members: CoachingSetMember[];
  recall(messages: readonly RecallMessage[]): Promise<RecallAnswer>;
}

/**
 * The agent's memories of the given statuses (e.g. active, or active and candidate) as one
 * fixed index, recalled with serve time's own code and limits: the gate replays a dataset
 * example with the coaching production would insert into that conversation, so a coaching
 * set is gated exactly as it would be served.
 */
export async function replayCoaching(
  db: Db,
  agent: string,
  embedder: SituationEmbedder,
  statuses: readonly CoachingStatus[],
  /** Memories at given versions besides those (a rollout's coaching set); absent: none. */
  set: CoachingSet = [],
): Promise<ReplayCoaching> {
  const [byStatus, inSet] = await Promise.all([
    Promise.all(statuses.map((status) => currentCoaching(db, agent, { status }))),
    coachingAtVersions(db, agent, set),
  ]);
  const read = byStatus.flat();
  const known = new Set(read.map((r) => r.id));
  return replayOf(agent, embedder, [...read, ...inSet.filter((r) => !known.has(r.id))]);
}

/** The coaching a gate replays, read once. */
export interface GateCoaching {
  /** The active memories: both arms recall them. */
  active: ReplayCoaching;
  /** The active memories and every candidate: the candidate's arm. */
  withCandidates: ReplayCoaching;
  /** The candidates, gated as one set with the candidate. */
  set: CoachingSet;
  /** The active memories and only these candidates: the set once the gate dropped members. */
  withMembers: (ids: readonly string[]) => Promise<ReplayCoaching>;
}

export async function gateCoaching(
  db: Db,
  agent: string,
  embedder: SituationEmbedder,
): Promise<GateCoaching> {
  const [active, candidates] = await Promise.all([
    currentCoaching(db, agent, { status: 'active' }),
    currentCoaching(db, agent, { status: 'candidate' }),
  ]);
  const [activeReplay, withCandidates] = await Promise.all([
    replayOf(agent, embedder, active),
    replayOf(agent, embedder, [...active, ...candidates]),
  ]);
  return {
    active: activeReplay,
    withCandidates,
    set: candidates.map((c) => ({ id: c.id, version: c.version })),
    withMembers: (ids) =>
      replayOf(agent, embedder, [...active, ...candidates.filter((c) => ids.includes(c.id))]),
  };
}

async function replayOf(
  agent: string,
  embedder: SituationEmbedder,
  rows: readonly CurrentCoaching[],
): Promise<ReplayCoaching> {
  const { memories, matrix } = await indexedMemories(rows, embedder);
  const index: AgentCoachingIndex = { agent, mark: null, memories, matrix, clusters: null, readAt: 0 };
  const recall = new CoachingRecall({ embedder, get: () => Promise.resolve(index) });
  return {
    size: memories.length,
    members: memories.map((m) => ({ id: m.id, version: m.version })),
    // Serve time's defaults: what an agent gets that recalls without limits of its own.
    recall: (messages) =>
      recall.recall(agent, {
        messages: [...messages],
        k: DEFAULT_RECALL_K,
        maxTokens: DEFAULT_RECALL_TOKENS,
      }),
  };
}
