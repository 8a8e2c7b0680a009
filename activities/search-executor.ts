import { createHash } from 'node:crypto';
import { outcomeMatch } from '../core/evaluator.js';
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
  type ExampleForTeacher,
} from '../llm/prompt-templates.js';
import {
  CRITIQUES_SCHEMA,
  INSTRUCTION_SCHEMA,
  PARAPHRASES_SCHEMA,
  parseStructured,
  PROMPT_EDITS_SCHEMA,
  PROMPT_PROPOSALS_SCHEMA,
  REFLECTION_SCHEMA,
} from '../llm/structured-output.js';
import { candidateIdOf, type Candidate, type Evidence, type TeachTask } from '../optimizers/prompt-search.js';
import { Critiques, NewInstruction, PromptProposals, PromptTexts } from '../schemas/llm-outputs.js';
import type { AgentAction, ChatMessage } from '../schemas/trace.js';
import { boundedMap } from './bounded-map.js';

/**
 * Executes prompt-search requests: evaluations run the task model on examples with a
 * candidate's rendered prompt and score the step; teacher tasks fill the meta-prompt
 * templates and store the answers as texts. Storage is behind `SearchStore` (Postgres in
 * activities, memory in benchmarks), so the same code serves both.
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

export type TextKind = 'component' | 'critique' | 'demos';

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

/** The system prompt and tools a candidate stands for. */
export function renderCandidate(
  texts: ReadonlyMap<string, string>,
  candidate: Candidate,
  tools: readonly ChatTool[],
): { systemPrompt: string; tools: ChatTool[] } {
  const text = (id: string | undefined) => (id === undefined ? undefined : texts.get(id));
  const system = text(candidate.system) ?? '';
  const demos = text(candidate.demos);
  return {
    systemPrompt: demos ? `${system.trimEnd()}\n\n${demos}` : system,
    tools: tools.map((t) => ({ ...t, description: text(candidate[`tool:${t.name}`]) ?? t.description })),
  };
}

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

/** Runs the task model where no stored output exists; returns scores aligned with exampleIds. */
export async function evaluateCandidate(
  io: SearchIo,
  candidate: Candidate,
  candidateId: string,
  exampleIds: readonly string[],
): Promise<{ scores: number[]; rollouts: number; tokens: number }> {
  const stored = await io.store.outputs(candidateId, exampleIds);
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

function userText(messages: readonly ChatMessage[]): string {
  return renderConversation(messages);
}

/** Inputs, the candidate's outputs and feedback, as every teacher template shows them. */
async function evidenceFor(io: SearchIo, evidence: Evidence): Promise<ExampleForTeacher[]> {
  const outputs = await io.store.outputs(candidateIdOf(evidence.candidate), evidence.exampleIds);
  const examples = await io.store.examples(evidence.exampleIds);
  return evidence.exampleIds.flatMap((id) => {
    const ex = examples.get(id);
    const out = outputs.get(id);
    if (!ex || !out) return [];
    const verdict = outcomeMatch(ex.expected, out.step);
    return [
      {
        input: userText(ex.messages),
        output: renderStep(out.step),
        feedback:
          verdict.value >= 1
            ? `Correct (${verdict.explanation}).`
            : `Incorrect: ${verdict.explanation}. The expected step was:\n${renderStep(ex.expected)}` +
              (ex.critique ? `\nReviewer's note on the original trace: ${ex.critique}` : ''),
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
  let teacherCalls = 1;
  const current = async (candidate: Candidate, component: string) => {
    const id = candidate[component];
    if (id === undefined) throw new Error(`the candidate has no component ${component}`);
    return (await loadTexts(io.store, [id])).get(id)!;
  };
  switch (task.type) {
    case 'rewrite': {
      const answer = await askTeacher(
        io,
        sample,
        rewritePrompt(
          await current(task.candidate, task.component),
          await evidenceFor(io, task.evidence),
          task.count,
        ),
        PROMPT_PROPOSALS_SCHEMA,
      );
      tokens = answer.tokens;
      texts = parseStructured(PromptProposals, answer.content, 'teacher').candidates.map((c) => c.prompt);
      break;
    }
    case 'critique': {
      const answer = await askTeacher(
        io,
        sample,
        critiquePrompt(
          await current(task.candidate, task.component),
          await evidenceFor(io, task.evidence),
          task.count,
        ),
        CRITIQUES_SCHEMA,
      );
      tokens = answer.tokens;
      texts = parseStructured(Critiques, answer.content, 'teacher').reasons.slice(0, task.count);
      kind = 'critique';
      break;
    }
    case 'edit': {
      const critique = (await loadTexts(io.store, [task.critiqueId])).get(task.critiqueId)!;
      const answer = await askTeacher(
        io,
        sample,
        editPrompt(
          await current(task.candidate, task.component),
          await evidenceFor(io, task.evidence),
          critique,
          task.count,
        ),
        PROMPT_EDITS_SCHEMA,
      );
      tokens = answer.tokens;
      texts = parseStructured(PromptTexts, answer.content, 'teacher').prompts.slice(0, task.count);
      break;
    }
    case 'paraphrase': {
      const source = (await loadTexts(io.store, [task.textId])).get(task.textId)!;
      const answer = await askTeacher(io, sample, paraphrasePrompt(source, task.count), PARAPHRASES_SCHEMA);
      tokens = answer.tokens;
      texts = parseStructured(PromptTexts, answer.content, 'teacher').prompts.slice(0, task.count);
      break;
    }
    case 'reflect': {
      const answer = await askTeacher(
        io,
        sample,
        reflectPrompt(await current(task.candidate, task.component), await evidenceFor(io, task.evidence)),
        REFLECTION_SCHEMA,
      );
      tokens = answer.tokens;
      texts = [parseStructured(NewInstruction, answer.content, 'teacher').instruction];
      break;
    }
    case 'instruct': {
      const demos = task.demosId ? (await loadTexts(io.store, [task.demosId])).get(task.demosId)! : null;
      const answer = await askTeacher(
        io,
        sample,
        instructPrompt(
          await current(task.candidate, task.component),
          await evidenceFor(io, task.evidence),
          demos,
          task.tip,
        ),
        INSTRUCTION_SCHEMA,
      );
      tokens = answer.tokens;
      texts = [parseStructured(NewInstruction, answer.content, 'teacher').instruction];
      break;
    }
    case 'demos': {
      // Demonstrations are rendered from the examples' expected steps: no model call.
      teacherCalls = 0;
      kind = 'demos';
      const examples = await io.store.examples(task.exampleIds);
      texts = [
        renderDemos(
          task.exampleIds.flatMap((id) => {
            const ex = examples.get(id);
            return ex ? [{ input: userText(ex.messages), output: renderStep(ex.expected) }] : [];
          }),
        ),
      ];
      break;
    }
  }
  const unique = [...new Set(texts.map((t) => t.trim()).filter(Boolean))];
  const rows = unique.map((text) => ({ id: textIdOf(text), text, kind }));
  await io.store.putTexts(rows);
  return { textIds: rows.map((r) => r.id), teacherCalls, tokens };
}
