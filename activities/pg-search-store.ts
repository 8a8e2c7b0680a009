import { cancellationSignal, heartbeat } from '@temporalio/activity';
import { sql } from 'kysely';
import { agentConfig } from '../registry/store/agent-repository.js';
import type { Db } from '../db/connection.js';
import type { Candidate } from '../optimizers/prompt-search.js';
import { AgentAction, ChatMessage } from '../schemas/trace.js';
import {
  renderCandidate,
  type SearchExample,
  type SearchIo,
  type SearchStore,
  type StoredOutput,
  type TextKind,
} from './search-executor.js';
import type { ChatTool, LlmRoles } from '../llm/llm-client.js';

/**
 * The optimizer's texts, examples and evaluation cache in Postgres, scoped to one run:
 * candidate rows are namespaced by run (`<runId>/<candidateId>`) because a candidate's
 * scores only mean something against that run's dataset version.
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

  /** Examples with the reviewer's comment, else the judge's rationale, as the critique. */
  async examples(ids: readonly string[]): Promise<Map<string, SearchExample>> {
    if (ids.length === 0) return new Map();
    const rows = await this.db
      .selectFrom('dataset_examples as ex')
      .leftJoin('annotations as a', 'a.id', 'ex.annotation_id')
      .leftJoin('scores as judge', (j) =>
        j
          .onRef('judge.trace_id', '=', 'ex.trace_id')
          .on('judge.cycle_id', '=', this.cycleId)
          .on('judge.source', '=', 'judge'),
      )
      .select(['ex.id', 'ex.input', 'ex.expected', 'a.comment', 'judge.explanation', 'judge.value'])
      .where('ex.id', 'in', [...ids])
      .execute();
    return new Map(
      rows.map((r) => [
        r.id,
        {
          id: r.id,
          messages: ChatMessage.array().parse((r.input as { messages: unknown }).messages),
          expected: AgentAction.parse(r.expected),
          critique: r.comment ?? (r.value !== null && r.value < 1 ? r.explanation : null),
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
    const exists = await this.db
      .selectFrom('candidates')
      .select('id')
      .where('id', '=', id)
      .executeTakeFirst();
    if (exists) return id;
    const texts = await this.texts(Object.values(candidate));
    const { systemPrompt } = renderCandidate(texts, candidate, this.tools);
    await this.db
      .insertInto('candidates')
      .values({
        id,
        run_id: this.runId,
        prompt_text: systemPrompt,
        rationale,
        parent_id: null,
        components: JSON.stringify(candidate),
      })
      .onConflict((oc) => oc.column('id').doNothing())
      .execute();
    this.registered.add(id);
    return id;
  }
}

/** Train example IDs of a dataset version, in a stable order. */
export async function trainExampleIds(db: Db, datasetVersionId: string): Promise<string[]> {
  const rows = await db
    .selectFrom('dataset_examples')
    .select('id')
    .where('dataset_version_id', '=', datasetVersionId)
    .where('split', '=', 'train')
    .orderBy(sql`id`)
    .execute();
  return rows.map((r) => r.id);
}

/**
 * What the shared executor needs for one run, backed by Postgres: the run's score store,
 * the agent's tools, the model roles, and the activity's heartbeat and cancellation.
 */
export async function pgSearchIo(
  deps: { db: Db; llm: LlmRoles; llmConcurrency: number },
  args: { runId: string; cycleId: string; agent: string; seed: number },
): Promise<SearchIo & { store: PgSearchStore }> {
  const { tools } = await agentConfig(deps.db, args.agent);
  return {
    store: new PgSearchStore(deps.db, args.runId, args.cycleId, tools),
    agent: deps.llm.agent,
    teacher: deps.llm.teacher,
    tools,
    concurrency: deps.llmConcurrency,
    seed: args.seed,
    signal: cancellationSignal(),
    onProgress: (done, total) => heartbeat({ done, of: total }),
  };
}
