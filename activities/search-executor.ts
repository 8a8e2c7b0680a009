import { createHash } from 'node:crypto';
import { outcomeMatch } from '../evaluation/evaluator.js';
import { runAgentStep } from '../llm/agent-step.js';
import type { ChatTool, LlmClient } from '../llm/llm-client.js';
import {
  critiquePrompt,
  editPrompt,
  instructPrompt,
  OPTIMIZER_SYSTEM,
  paraphrasePrompt,
  reflectPrompt,
  renderConversation,
  renderDemos,
  renderStep,
  rewritePrompt,
  summarizePrompt,
  type ExampleForTeacher,
} from '../llm/prompt-templates.js';
import {
  CRITIQUES_SCHEMA,
  INSTRUCTION_SCHEMA,
  OBSERVATIONS_SCHEMA,
  PARAPHRASES_SCHEMA,
  parseStructured,
  PROMPT_EDITS_SCHEMA,
  PROMPT_PROPOSALS_SCHEMA,
  REFLECTION_SCHEMA,
} from '../llm/structured-output.js';
import { candidateIdOf, type Candidate, type TeachTask } from '../optimizers/prompt-search.js';
import {
  Critiques,
  DatasetObservations,
  NewInstruction,
  PromptProposals,
  PromptTexts,
} from '../schemas/llm-outputs.js';
import { renderCandidate } from '../optimization/render-candidate.js';
import type { SearchStore, StoredOutput, TextKind } from '../optimization/search-store.js';
import { boundedMap } from '../llm/bounded-map.js';

/**
 * Executes prompt-search requests: evaluations run the task model on examples with a
 * candidate's rendered prompt and score the step; teacher tasks fill the meta-prompt
 * templates and store the answers as texts. Storage is behind `SearchStore` (Postgres in
 * activities, memory in benchmarks), so the same code serves both.
 */

export interface SearchIo {
  store: SearchStore;
  agent: LlmClient;
  teacher: LlmClient;
  tools: readonly ChatTool[];
  concurrency: number;
  seed: number;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
}

export const textIdOf = (text: string) =>
  `txt_${createHash('sha256').update(text).digest('hex').slice(0, 24)}`;

async function loadTexts(
  store: SearchStore,
  ids: readonly (string | undefined)[],
): Promise<Map<string, string>> {
  const wanted = [...new Set(ids.filter((x): x is string => x !== undefined))];
  const texts = await store.texts(wanted);
  const missing = wanted.filter((id) => !texts.has(id));
  if (missing.length) throw new Error(`texts not found: ${missing.join(', ')}`);
  return texts;
}

/**
 * Runs the task model where no stored output exists; returns scores aligned with exampleIds.
 *
 * `storedOutputs: 'rerun'` is for callers that ask only for pairs never evaluated before (the
 * optimizer's requests): an output found stored was then written by an earlier attempt of the
 * same activity, cut short by a crash or a lost database. It is run again, answered by the
 * model response cache without a new paid call, so the rollouts and tokens the request
 * reports are those of an uninterrupted attempt; skipping it would drop them from the run's
 * token total. 'reuse' (default) takes stored outputs as they are and counts nothing for
 * them: the gate re-reads outputs the optimizer already paid for.
 */
export async function evaluateCandidate(
  io: SearchIo,
  candidate: Candidate,
  candidateId: string,
  exampleIds: readonly string[],
  storedOutputs: 'reuse' | 'rerun' = 'reuse',
): Promise<{ scores: number[]; rollouts: number; tokens: number }> {
  const stored =
    storedOutputs === 'reuse'
      ? await io.store.outputs(candidateId, exampleIds)
      : new Map<string, StoredOutput>();
  const todo = exampleIds.filter((id) => !stored.has(id));
  let tokens = 0;
  if (todo.length > 0) {
    const texts = await loadTexts(io.store, Object.values(candidate));
    const { systemPrompt, tools } = renderCandidate(texts, candidate, io.tools);
    const examples = await io.store.examples(todo);
    let done = 0;
    const rows = await boundedMap(todo, io.concurrency, async (exampleId) => {
      const example = examples.get(exampleId);
      if (!example) throw new Error(`example ${exampleId} not found`);
      const run = await runAgentStep(
        io.agent,
        { systemPrompt, messages: example.messages, tools, seed: io.seed },
        io.signal,
      );
      tokens += run.tokens;
      const row = { exampleId, score: outcomeMatch(example.expected, run.step).value, step: run.step };
      // Stored one by one so a retried activity resumes where the crashed attempt stopped.
      await io.store.putOutputs(candidateId, candidate, [row]);
      io.onProgress?.(++done, todo.length);
      return row;
    });
    for (const r of rows) stored.set(r.exampleId, r);
  }
  return { scores: exampleIds.map((id) => stored.get(id)!.score), rollouts: todo.length, tokens };
}

/**
 * Inputs, the candidate's outputs and feedback, as every teacher template shows them.
 * `unrun: 'show'` (the dataset summary) also lists examples the run has not scored the
 * candidate on, with their expected step and note; no rollout is spent on them.
 */
async function examplesForTeacher(
  io: SearchIo,
  candidate: Candidate,
  exampleIds: readonly string[],
  unrun: 'skip' | 'show' = 'skip',
): Promise<ExampleForTeacher[]> {
  const outputs = await io.store.outputs(candidateIdOf(candidate), exampleIds);
  const examples = await io.store.examples(exampleIds);
  return exampleIds.flatMap((id) => {
    const ex = examples.get(id);
    const out = outputs.get(id);
    if (!ex || (!out && unrun === 'skip')) return [];
    const note = ex.critique ? `\nReviewer's note on the original trace: ${ex.critique}` : '';
    const input = renderConversation(ex.messages);
    if (!out)
      return [
        { input, output: '(not run)', feedback: `The expected step is:\n${renderStep(ex.expected)}${note}` },
      ];
    const verdict = outcomeMatch(ex.expected, out.step);
    return [
      {
        input,
        output: renderStep(out.step),
        feedback:
          verdict.value >= 1
            ? `Correct (${verdict.explanation}).`
            : `Incorrect: ${verdict.explanation}. The expected step ${unrun === 'skip' ? 'was' : 'is'}:\n${renderStep(ex.expected)}${note}`,
      },
    ];
  });
}

async function askTeacher(
  io: SearchIo,
  sample: number,
  user: string,
  schema: { name: string; schema: Record<string, unknown> },
): Promise<{ content: string | null; tokens: number }> {
  const response = await io.teacher.chat(
    {
      messages: [
        { role: 'system', content: OPTIMIZER_SYSTEM },
        { role: 'user', content: user },
      ],
      jsonSchema: schema,
      temperature: 1,
      seed: io.seed + sample,
    },
    io.signal,
  );
  return { content: response.content, tokens: response.usage.promptTokens + response.usage.completionTokens };
}

/** Runs one teacher task; stores and returns the new texts' IDs (deduplicated, order kept). */
export async function teach(
  io: SearchIo,
  task: TeachTask,
  sample: number,
): Promise<{ textIds: string[]; teacherCalls: number; tokens: number }> {
  let texts: string[];
  let kind: TextKind = 'component';
  let tokens = 0;
  if (task.type === 'demos') {
    // Demonstrations are rendered from the examples' expected steps: no model call.
    kind = 'demos';
    const examples = await io.store.examples(task.exampleIds);
    texts = [
      renderDemos(
        task.exampleIds.flatMap((id) => {
          const ex = examples.get(id);
          return ex ? [{ input: renderConversation(ex.messages), output: renderStep(ex.expected) }] : [];
        }),
      ),
    ];
  } else {
    const ask = await metaPrompt(io, task);
    const answer = await askTeacher(io, sample, ask.user, ask.schema);
    tokens = answer.tokens;
    texts = ask.read(answer.content);
    if (task.type === 'critique') kind = 'critique';
    if (task.type === 'summarize') kind = 'summary';
  }
  const unique = [...new Set(texts.map((t) => t.trim()).filter(Boolean))];
  const rows = unique.map((text) => ({ id: textIdOf(text), text, kind }));
  await io.store.putTexts(rows);
  return { textIds: rows.map((r) => r.id), teacherCalls: task.type === 'demos' ? 0 : 1, tokens };
}

/** The filled template, its answer schema and how to read texts out of the answer. */
async function metaPrompt(
  io: SearchIo,
  task: Exclude<TeachTask, { type: 'demos' }>,
): Promise<{
  user: string;
  schema: { name: string; schema: Record<string, unknown> };
  read: (content: string | null) => string[];
}> {
  // One lookup for every text the template needs.
  if (task.type === 'summarize') {
    const prior = task.priorId ? (await loadTexts(io.store, [task.priorId])).get(task.priorId)! : null;
    return {
      user: summarizePrompt(prior, await examplesForTeacher(io, task.candidate, task.exampleIds, 'show')),
      schema: OBSERVATIONS_SCHEMA,
      read: (c) => [parseStructured(DatasetObservations, c, 'teacher').observations],
    };
  }
  const ids =
    task.type === 'paraphrase'
      ? [task.textId]
      : [
          task.candidate[task.component],
          task.type === 'edit' ? task.critiqueId : undefined,
          task.type === 'instruct' ? (task.demosId ?? undefined) : undefined,
          task.type === 'instruct' ? (task.summaryId ?? undefined) : undefined,
          ...(task.type === 'reflect' ? (task.triedIds ?? []) : []),
        ];
  const texts = await loadTexts(io.store, ids);
  if (task.type === 'paraphrase') {
    return {
      user: paraphrasePrompt(texts.get(task.textId)!, task.count),
      schema: PARAPHRASES_SCHEMA,
      read: (c) => parseStructured(PromptTexts, c, 'teacher').prompts.slice(0, task.count),
    };
  }
  const componentId = task.candidate[task.component];
  if (componentId === undefined) throw new Error(`the candidate has no component ${task.component}`);
  const current = texts.get(componentId)!;
  const examples = await examplesForTeacher(io, task.evidence.candidate, task.evidence.exampleIds);
  const instruction = (c: string | null) => [parseStructured(NewInstruction, c, 'teacher').instruction];
  switch (task.type) {
    case 'rewrite':
      return {
        user: rewritePrompt(current, examples, task.count),
        schema: PROMPT_PROPOSALS_SCHEMA,
        read: (c) => parseStructured(PromptProposals, c, 'teacher').candidates.map((x) => x.prompt),
      };
    case 'critique':
      return {
        user: critiquePrompt(current, examples, task.count),
        schema: CRITIQUES_SCHEMA,
        read: (c) => parseStructured(Critiques, c, 'teacher').reasons.slice(0, task.count),
      };
    case 'edit':
      return {
        user: editPrompt(current, examples, texts.get(task.critiqueId)!, task.count),
        schema: PROMPT_EDITS_SCHEMA,
        read: (c) => parseStructured(PromptTexts, c, 'teacher').prompts.slice(0, task.count),
      };
    case 'reflect': {
      const tried = (task.triedIds ?? []).map((id) => texts.get(id)!);
      return { user: reflectPrompt(current, examples, tried), schema: REFLECTION_SCHEMA, read: instruction };
    }
    case 'instruct': {
      const demos = task.demosId ? texts.get(task.demosId)! : null;
      const summary = task.summaryId ? texts.get(task.summaryId)! : null;
      return {
        user: instructPrompt(current, examples, demos, task.tip, summary),
        schema: INSTRUCTION_SCHEMA,
        read: instruction,
      };
    }
  }
}
