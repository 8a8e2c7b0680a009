import type { Candidate } from '../optimizers/prompt-search.js';
import type { AgentAction, ChatMessage } from '../schemas/trace.js';

/**
 * Where prompt search keeps its texts, examples and per-example outputs: Postgres in
 * activities (`store/pg-search-store.ts`), memory in benchmarks (`memory-search-store.ts`).
 */

export interface SearchExample {
  id: string;
  messages: ChatMessage[];
  expected: AgentAction;
  /** What reviewers or the judge said about the original trace, if anything. */
  critique: string | null;
}

export interface StoredOutput {
  score: number;
  step: AgentAction;
}

export type TextKind = 'component' | 'critique' | 'demos' | 'summary';

export interface SearchStore {
  texts(ids: readonly string[]): Promise<Map<string, string>>;
  putTexts(texts: readonly { id: string; text: string; kind: TextKind }[]): Promise<void>;
  examples(ids: readonly string[]): Promise<Map<string, SearchExample>>;
  outputs(candidateId: string, exampleIds: readonly string[]): Promise<Map<string, StoredOutput>>;
  putOutputs(
    candidateId: string,
    candidate: Candidate,
    rows: readonly ({ exampleId: string } & StoredOutput)[],
  ): Promise<void>;
}
