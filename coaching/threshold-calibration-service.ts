import type { Db } from '../db/connection.js';
import type { ThresholdCalibration } from '../schemas/coaching.js';
import { recallMessages } from './coaching-correction.js';
import { dotProduct, normalised, situationQuery } from './coaching-recall.js';
import type { SituationEmbedder } from './situation-embedder.js';
import { recentTraceMessages } from './store/coaching-calibration-repository.js';
import { CALIBRATION_SAMPLE, calibrateThreshold } from './threshold-calibration.js';

/** Texts per embedder call. */
const EMBED_BATCH = 256;

/**
 * The evidence for a new coaching's threshold, measured with the embedder that will recall
 * it: the situation's similarity to its source conversation's situation query (else its
 * example request) and to the situation queries of the agent's newest CALIBRATION_SAMPLE
 * other traces; then the rule of threshold-calibration.ts.
 */
export async function calibrateCoachingThreshold(
  deps: { db: Db; embedder: SituationEmbedder },
  agent: string,
  situation: readonly number[],
  source: { query: string | null; traceId: string | null },
): Promise<ThresholdCalibration> {
  const recent = await recentTraceMessages(deps.db, agent, {
    limit: CALIBRATION_SAMPLE,
    exceptTraceId: source.traceId,
  });
  const queries = recent.map((m) => situationQuery(recallMessages(m))).filter((q) => q.trim() !== '');
  const sourceQuery = source.query?.trim() ? source.query : null;
  const texts = sourceQuery === null ? queries : [sourceQuery, ...queries];
  const s = normalised(situation);
  const sims: number[] = [];
  for (let i = 0; i < texts.length; i += EMBED_BATCH)
    for (const v of await deps.embedder.embed(texts.slice(i, i + EMBED_BATCH)))
      sims.push(v.length === s.length ? dotProduct(normalised(v), 0, s, s.length) : 0);
  return calibrateThreshold({
    embedder: deps.embedder.name,
    source: sourceQuery === null ? null : sims[0]!,
    others: sourceQuery === null ? sims : sims.slice(1),
  });
}
