import { coachingTraceId, type RecallAnswer, type RecallRequest } from '../schemas/coaching.js';
import { COACHING_PREAMBLE, PREAMBLE_TOKENS } from './coaching-messages.js';
import type { CoachingIndexes } from './coaching-index-service.js';
import { chooseHits, normalised, passingHits, situationQuery } from './coaching-recall.js';
import { probedRows } from './situation-clusters.js';

/** IVF lists a query scans when the agent's index has them (of √n lists). */
export const DEFAULT_PROBES = 8;

/**
 * Recall at serve time: the conversation so far → its situation query → embedded (the
 * process remembers the vectors of recent queries, since an agent recalls for every turn
 * and many turns repeat) → matched against the agent's index (every memory, or the memories
 * of the `probes` nearest IVF lists once the agent has many) → the few-shot messages to
 * insert and the ids to tag the trace with.
 */
export class CoachingRecall<I extends Pick<CoachingIndexes, 'get' | 'embedder'> = CoachingIndexes> {
  private readonly queries = new Map<string, number[]>();

  constructor(
    /** The agents' indexes: the process's refreshed ones at serve time, a fixed set in a replay. */
    readonly indexes: I,
    private readonly options: { queryCacheSize?: number; probes?: number } = {},
  ) {}

  async recall(agent: string, request: RecallRequest, signal?: AbortSignal): Promise<RecallAnswer> {
    const index = await this.indexes.get(agent);
    const empty: RecallAnswer = { agent, coaching: [], messages: [], traceIds: [] };
    if (!index.matrix && !index.sets?.length) return empty;
    const query = situationQuery(request.messages);
    if (query.trim() === '') return empty;
    const vector = await this.embedQuery(query, signal);
    const q = normalised(vector);
    const rows =
      index.clusters && vector.length === index.matrix?.dimensions
        ? probedRows(index.clusters, q, this.options.probes ?? DEFAULT_PROBES)
        : undefined;
    // The active memories, and a running rollout's set when resolve served this conversation
    // the rollout's candidate version: source 0 is the active index, 1 the set.
    const set = request.promptVersionId
      ? index.sets?.find((s) => s.candidateVersionId === request.promptVersionId && s.matrix)
      : undefined;
    const passing = index.matrix ? passingHits(index.matrix, q, rows, 0) : [];
    if (set?.matrix) passing.push(...passingHits(set.matrix, q, undefined, 1));
    const hits = chooseHits(
      passing,
      { k: request.k, maxTokens: request.maxTokens, reservedTokens: PREAMBLE_TOKENS },
      (a, b) => a.source - b.source || a.row - b.row,
    );
    if (hits.length === 0) return empty;
    const chosen = hits.map((h) => ({
      hit: h,
      memory: (h.source === 0 ? index.memories : set!.memories)[h.row]!,
    }));
    return {
      agent,
      coaching: chosen.map(({ hit, memory }) => ({
        id: memory.id,
        version: memory.version,
        similarity: Math.round(hit.similarity * 10_000) / 10_000,
        tokens: memory.tokens,
      })),
      messages: [
        { role: 'system', content: COACHING_PREAMBLE },
        ...chosen.flatMap(({ memory }) => memory.messages),
      ],
      traceIds: chosen.map(({ memory }) => coachingTraceId(memory)),
    };
  }

  private async embedQuery(text: string, signal?: AbortSignal): Promise<number[]> {
    const known = this.queries.get(text);
    if (known) {
      // Re-inserting moves the key to the end: the Map's order is the eviction order.
      this.queries.delete(text);
      this.queries.set(text, known);
      return known;
    }
    const [vector] = await this.indexes.embedder.embed([text], signal);
    this.queries.set(text, vector!);
    if (this.queries.size > (this.options.queryCacheSize ?? 10_000))
      this.queries.delete(this.queries.keys().next().value!);
    return vector!;
  }
}
