import type { Db } from '../../db/connection.js';
import { examplesWithCritique } from '../../datasets/store/optimizer-examples.js';
import type { ChatTool } from '../../llm/llm-client.js';
import type { Candidate } from '../../optimizers/prompt-search.js';
import { AgentAction, ChatMessage } from '../../schemas/trace.js';
import { renderCandidate } from '../render-candidate.js';
import type { SearchExample, SearchStore, StoredOutput, TextKind } from '../search-store.js';
import { candidateExists, insertCandidate } from './candidate-repository.js';

/**
 * The optimizer's texts, examples and evaluation cache in Postgres, scoped to one run:
 * candidate rows are namespaced by run (`<runId>/<candidateId>`) because a candidate's
 * scores only mean something against that run's dataset version. Texts are content-addressed
 * and outputs keyed by (candidate, example); both are insert-only (on conflict do nothing),
 * so retries and concurrent evaluations never overwrite a stored answer.
 */
export const runCandidateId = (runId: string, candidateId: string) => `${runId}/${candidateId}`;

export class PgSearchStore implements SearchStore {
  /** Candidates known to have a row: outputs are stored one example at a time. */
  private readonly registered = new Set<string>();

  constructor(
    private readonly db: Db,
    private readonly runId: string,
    private readonly cycleId: string,
    private readonly tools: readonly ChatTool[],
  ) {}

  async texts(ids: readonly string[]): Promise<Map<string, string>> {
    if (ids.length === 0) return new Map();
    const rows = await this.db
      .selectFrom('prompt_texts')
      .select(['id', 'text'])
      .where('id', 'in', [...ids])
      .execute();
    return new Map(rows.map((r) => [r.id, r.text]));
  }

  async putTexts(texts: readonly { id: string; text: string; kind: TextKind }[]): Promise<void> {
    if (texts.length === 0) return;
    await this.db
      .insertInto('prompt_texts')
      .values(texts.map((t) => ({ id: t.id, text: t.text, kind: t.kind })))
      .onConflict((oc) => oc.column('id').doNothing())
      .execute();
  }

  /** Examples with the reviewer's comment, else the judge's failing explanations, as the critique. */
  async examples(ids: readonly string[]): Promise<Map<string, SearchExample>> {
    if (ids.length === 0) return new Map();
    const rows = await examplesWithCritique(this.db, ids, this.cycleId);
    return new Map(
      rows.map((r) => [
        r.id,
        {
          id: r.id,
          messages: ChatMessage.array().parse((r.input as { messages: unknown }).messages),
          expected: AgentAction.parse(r.expected),
          critique: r.comment ?? r.judge_failures,
        },
      ]),
    );
  }

  async outputs(candidateId: string, exampleIds: readonly string[]): Promise<Map<string, StoredOutput>> {
    if (exampleIds.length === 0) return new Map();
    const rows = await this.db
      .selectFrom('candidate_scores')
      .select(['example_id', 'score', 'output'])
      .where('candidate_id', '=', runCandidateId(this.runId, candidateId))
      .where('example_id', 'in', [...exampleIds])
      .execute();
    return new Map(rows.map((r) => [r.example_id, { score: r.score, step: AgentAction.parse(r.output) }]));
  }

  async putOutputs(
    candidateId: string,
    candidate: Candidate,
    rows: readonly ({ exampleId: string } & StoredOutput)[],
  ): Promise<void> {
    await this.registerCandidate(candidateId, candidate);
    if (rows.length === 0) return;
    await this.db
      .insertInto('candidate_scores')
      .values(
        rows.map((r) => ({
          candidate_id: runCandidateId(this.runId, candidateId),
          example_id: r.exampleId,
          score: r.score,
          output: JSON.stringify(r.step),
        })),
      )
      .onConflict((oc) => oc.columns(['candidate_id', 'example_id']).doNothing())
      .execute();
  }

  /** The candidate row the gate and release read: its rendered system prompt and components. */
  async registerCandidate(
    candidateId: string,
    candidate: Candidate,
    rationale = 'optimizer candidate',
  ): Promise<string> {
    const id = runCandidateId(this.runId, candidateId);
    if (await candidateExists(this.db, id)) return id;
    const texts = await this.texts(Object.values(candidate));
    const { systemPrompt } = renderCandidate(texts, candidate, this.tools);
    await insertCandidate(this.db, {
      id,
      runId: this.runId,
      promptText: systemPrompt,
      rationale,
      components: candidate,
    });
    this.registered.add(id);
    return id;
  }
}
