import { embedTexts, fitTfidf, type TfidfModel } from '../diagnosis/text-embedding.js';
import type { LlmClient } from '../llm/llm-client.js';

/**
 * What embeds coaching situations and the conversations matched against them: the
 * embedder model when one is configured (through the LLM client, like diagnosis), else a
 * local hashed TF-IDF with uniform weights (no corpus to fit, so every process gets the
 * same vectors). `name` is stored with each vector: vectors of two embedders are never
 * compared, a memory embedded by another one is re-embedded before it is recalled.
 */
export interface SituationEmbedder {
  readonly name: string;
  embed(texts: readonly string[], signal?: AbortSignal): Promise<number[][]>;
}

export const LOCAL_SITUATION_EMBEDDER = 'local:hashed-tfidf-256-v1';

/**
 * 256 buckets rather than diagnosis' 1024: a situation is one sentence, and recall scans
 * thousands of them per request, so a quarter of the work per memory matters more than the
 * collisions it adds (the airline situations separate as well: test/unit/coaching-recall).
 */
const LOCAL_DIMENSIONS = 256;

let localModel: TfidfModel | null = null;

export function localSituationEmbedder(): SituationEmbedder {
  localModel ??= fitTfidf([], { dimensions: LOCAL_DIMENSIONS });
  const model = localModel;
  return {
    name: LOCAL_SITUATION_EMBEDDER,
    embed: (texts) => Promise.resolve(embedTexts(model, texts)),
  };
}

export function modelSituationEmbedder(client: LlmClient): SituationEmbedder {
  return {
    name: `model:${client.model}`,
    embed: (texts, signal) => (texts.length === 0 ? Promise.resolve([]) : client.embed([...texts], signal)),
  };
}

/** The embedder of a deployment: its embedder model, else the local one. */
export const situationEmbedderFor = (embedder: LlmClient | null): SituationEmbedder =>
  embedder ? modelSituationEmbedder(embedder) : localSituationEmbedder();
