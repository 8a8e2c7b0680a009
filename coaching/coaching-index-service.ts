import type { Db } from '../db/connection.js';
import { RefreshedCache, type RefreshedCacheOptions } from '../release/refreshed-cache-service.js';
import {
  coachingMarks,
  currentCoaching,
  runningCoachingSets,
  type CurrentCoaching,
} from './store/coaching-repository.js';
import { coachingExampleMessages, messagesTokens } from './coaching-messages.js';
import { buildMatrix, type SituationMatrix } from './coaching-recall.js';
import {
  accumulateRound,
  assignRows,
  clustersOf,
  defaultListCount,
  finishRound,
  initialCentroids,
  newKmeansRound,
  trainingSample,
  type SituationClusters,
} from './situation-clusters.js';
import type { SituationEmbedder } from './situation-embedder.js';
import type { CoachingBehaviour, FewShotMessage } from '../schemas/coaching.js';

/** One active memory as recall serves it: its messages are formatted once, at load. */
export interface IndexedCoaching {
  id: string;
  version: number;
  situation: string;
  behaviour: CoachingBehaviour;
  threshold: number;
  messages: FewShotMessage[];
  tokens: number;
}

export interface AgentCoachingIndex {
  agent: string;
  /** The state of the agent's memories this index was built from (store mark). */
  mark: string | null;
  memories: IndexedCoaching[];
  /** Row i of the matrix is memories[i]; null while the agent has no active memory. */
  matrix: SituationMatrix | null;
  /** The IVF lists over the matrix, from `clusterFrom` memories on; null below (every row is scanned). */
  clusters: SituationClusters | null;
  /** When the database read behind this index started (ms, the `now` clock). */
  readAt: number;
  /**
   * The coaching sets of the agent's running rollouts, recalled beside the active memories
   * only for conversations served the rollout's candidate prompt version. Absent: none.
   */
  sets?: ServedCoachingSet[];
}

/** A running rollout's coaching set as recall serves it (every memory scanned: sets are small). */
export interface ServedCoachingSet {
  rolloutId: string;
  candidateVersionId: string;
  memories: IndexedCoaching[];
  matrix: SituationMatrix | null;
}

export interface CoachingIndexOptions extends RefreshedCacheOptions {
  /** From this many active memories of an agent on, recall scans IVF lists, not every memory. */
  clusterFrom?: number;
}

/**
 * Memories as recall serves them, and their situation matrix (row i is memories[i]; null
 * without memories). A memory embedded by another embedder is embedded again: vectors of two
 * embedders never compare.
 */
export async function indexedMemories(
  rows: readonly CurrentCoaching[],
  embedder: SituationEmbedder,
): Promise<{ memories: IndexedCoaching[]; matrix: SituationMatrix | null }> {
  const foreign = rows.filter((r) => r.current.embedder !== embedder.name);
  const again = foreign.length === 0 ? [] : await embedder.embed(foreign.map((r) => r.current.situation));
  const reembedded = new Map(foreign.map((r, i) => [r.id, again[i]!]));
  const vectors = rows.map((r) => reembedded.get(r.id) ?? r.current.embedding);
  const memories: IndexedCoaching[] = rows.map((r) => {
    const messages = coachingExampleMessages(r.current);
    return {
      id: r.id,
      version: r.version,
      situation: r.current.situation,
      behaviour: r.current.behaviour,
      threshold: r.current.threshold,
      messages,
      tokens: messagesTokens(messages),
    };
  });
  const matrix =
    memories.length === 0
      ? null
      : buildMatrix(
          vectors[0]!.length,
          memories.map((m, i) => ({ vector: vectors[i]!, threshold: m.threshold, tokens: m.tokens })),
        );
  return { memories, matrix };
}

export const DEFAULT_COACHING_REFRESH_MS = 500;
/** Below this an exact scan costs well under a millisecond. */
export const DEFAULT_CLUSTER_FROM = 1000;
const KMEANS_ROUNDS = 5;
const KMEANS_SAMPLE = 2000;
/** Rows per slice of a build (~13 M multiply-adds at 100 lists × 256 dimensions). */
const ASSIGN_SLICE = 500;

/** Lets requests run between slices of an index build (the previous index serves them). */
const yieldToRequests = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * The per-process recall index, refreshed like the routing snapshots behind resolve
 * (release/routing-snapshot-service.ts): each agent in use has an index (its active
 * memories, their messages formatted and their situations in one matrix); requests read it
 * without touching the database. One timer reads every agent's mark in a single small
 * query, at most one round at a time, and rebuilds only the agents whose mark moved;
 * requests keep the previous index meanwhile. A change committed at time t is recalled by
 * every API process from t + refreshMs + one round on, and at once by the process that made
 * it (`invalidate`). When the database is unreachable the last indexes keep serving.
 * Situations stored by another embedder than this process's are embedded again here.
 */
export class CoachingIndexes extends RefreshedCache<AgentCoachingIndex> {
  private readonly clusterFrom: number;

  constructor(
    private readonly db: Db,
    readonly embedder: SituationEmbedder,
    options: CoachingIndexOptions = {},
  ) {
    super(options, {
      refreshMs: DEFAULT_COACHING_REFRESH_MS,
      failure: (detail) =>
        `flywheel coaching: recall index refresh failed (${detail}); serving the last indexes`,
    });
    this.clusterFrom = options.clusterFrom ?? DEFAULT_CLUSTER_FROM;
  }

  protected async read(agents: string[]): Promise<Map<string, AgentCoachingIndex>> {
    const marks = await coachingMarks(this.db, agents);
    const out = new Map<string, AgentCoachingIndex>();
    for (const agent of agents) out.set(agent, await this.load(agent, marks.get(agent) ?? null));
    return out;
  }

  /** One read of every agent's mark, then a rebuild of only the agents whose mark moved. */
  protected override async readChanged(agents: string[]): Promise<Map<string, AgentCoachingIndex>> {
    const marks = await coachingMarks(this.db, agents);
    const out = new Map<string, AgentCoachingIndex>();
    for (const agent of agents) {
      const mark = marks.get(agent) ?? null;
      if (this.current(agent)?.mark === mark) continue;
      out.set(agent, await this.load(agent, mark));
    }
    return out;
  }

  private async load(agent: string, mark: string | null): Promise<AgentCoachingIndex> {
    const readAt = this.now();
    const [rows, running] = await Promise.all([
      currentCoaching(this.db, agent, { status: 'active' }),
      runningCoachingSets(this.db, agent),
    ]);
    const { memories, matrix } = await indexedMemories(rows, this.embedder);
    const clusters = matrix && memories.length >= this.clusterFrom ? await this.cluster(matrix) : null;
    const sets: ServedCoachingSet[] = [];
    for (const set of running)
      sets.push({
        rolloutId: set.rolloutId,
        candidateVersionId: set.candidateVersionId,
        ...(await indexedMemories(set.rows, this.embedder)),
      });
    return { agent, mark, memories, matrix, clusters, readAt, ...(sets.length ? { sets } : {}) };
  }

  /** Spherical k-means on a sample, then every row to its list, yielding between slices. */
  private async cluster(matrix: SituationMatrix): Promise<SituationClusters> {
    const rows = matrix.candidates.length;
    const lists = defaultListCount(rows);
    const sample = trainingSample(rows, KMEANS_SAMPLE);
    let centroids = initialCentroids(matrix, lists);
    for (let r = 0; r < KMEANS_ROUNDS; r++) {
      const round = newKmeansRound(lists, matrix.dimensions);
      for (let from = 0; from < sample.length; from += ASSIGN_SLICE) {
        await yieldToRequests();
        accumulateRound(matrix, centroids, lists, sample.slice(from, from + ASSIGN_SLICE), round);
      }
      centroids = finishRound(centroids, lists, matrix.dimensions, round);
    }
    const assignment = new Int32Array(rows);
    for (let from = 0; from < rows; from += ASSIGN_SLICE) {
      await yieldToRequests();
      assignRows(matrix, centroids, lists, assignment, from, Math.min(rows, from + ASSIGN_SLICE));
    }
    return clustersOf(matrix, centroids, lists, assignment);
  }
}
