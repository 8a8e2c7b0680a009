import { z } from 'zod';
import { AgentAction, ChatMessage, type ToolCall } from '../schemas/trace.js';
import type { ExportedExample } from '../schemas/dataset-example.js';
import { addCounts, type RedactionCounts, type Redactor } from '../traces/pii-redaction.js';
import { REGRESSION_SLICE } from './example-slices.js';

/**
 * Training files from a dataset version, for the failures a prompt cannot fix (the
 * fine-tune rung). Three shapes users feed to trainers:
 * - `openai-sft`: OpenAI's chat fine-tuning line, `{messages, tools}`, tool-call arguments
 *   as JSON strings, the corrected step as the last assistant message;
 * - `openai-dpo`: OpenAI's preference line, `{input: {messages, tools}, preferred_output,
 *   non_preferred_output}`: the corrected step against the step the agent took;
 * - `hf-chat`: the conversational form Hugging Face chat templates and TRL read,
 *   `{messages, tools}`, tool-call arguments as objects.
 * Only the train split leaves: eval and holdout are what the gate measures a fine-tuned
 * model on, and the regression suite is what guards it, so training on either would make
 * the gate grade its own homework. Every string passes through the agent's redactor on the
 * way out (cycle examples were redacted when sampled; imports may not have been).
 */

/**
 * The name of the agent's dataset of failures a prompt cannot fix: the cycle's dataset
 * builder promotes reviewer-corrected traces of fine-tune-rung clusters into it, beside
 * (never into) the default dataset the optimizer and the gate read.
 */
export const FINE_TUNE_DATASET = 'fine-tune';

export const EXPORT_FORMATS = ['openai-sft', 'openai-dpo', 'hf-chat'] as const;
export const ExportFormat = z.enum(EXPORT_FORMATS);
export type ExportFormat = z.infer<typeof ExportFormat>;

export interface ExportTool {
  name: string;
  description: string;
  parameters: Record<string, unknown>;
}

export interface TrainingSource {
  example: ExportedExample;
  /** The step the agent took on the example's trace, as sampled (for preference rows). */
  agentStep: unknown;
}

export interface TrainingExportOptions {
  format: ExportFormat;
  tools: readonly ExportTool[];
  /** Prepended as the system message when the example's conversation has none. */
  systemPrompt?: string | undefined;
  redactor: Redactor;
  /** Only examples from this failure cluster (its stable id). */
  clusterStableId?: string | undefined;
  /** Leave the `metadata` lineage field out (for trainers that refuse unknown keys). */
  withoutLineage?: boolean;
}

export interface TrainingExport {
  rows: Record<string, unknown>[];
  /** Examples that were eligible but could not become a row, each with why. */
  skipped: { key: string; reason: string }[];
  /** Examples left out by rule: not train, in the regression suite, another cluster. */
  withheld: { notTrain: number; regressionSuite: number; otherCluster: number };
  redactions: RedactionCounts;
}

/** OpenAI's tool-call form: a function with its arguments as a JSON string. */
interface OpenAiToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

/** Hugging Face chat templates read arguments as an object. */
interface HfToolCall {
  type: 'function';
  function: { name: string; arguments: Record<string, unknown> };
}

type OutMessage = Record<string, unknown>;

function openAiCall(call: ToolCall, id: string): OpenAiToolCall {
  return { id, type: 'function', function: { name: call.name, arguments: JSON.stringify(call.arguments) } };
}

function hfCall(call: ToolCall): HfToolCall {
  return { type: 'function', function: { name: call.name, arguments: call.arguments } };
}

/**
 * The conversation in the target's roles. Tool calls without an id get one from their
 * position, and the tool results after them take the same id in order, so a trainer that
 * pairs results with calls finds every pair.
 */
function conversation(messages: readonly ChatMessage[], format: ExportFormat): OutMessage[] {
  const out: OutMessage[] = [];
  const unanswered: string[] = [];
  let counter = 0;
  for (const m of messages) {
    const message: OutMessage = { role: m.role, content: m.content ?? '' };
    if (m.role === 'assistant' && m.tool_calls && m.tool_calls.length > 0) {
      if (format === 'hf-chat') message.tool_calls = m.tool_calls.map(hfCall);
      else {
        message.tool_calls = m.tool_calls.map((c) => {
          const id = c.id ?? `call_${++counter}`;
          unanswered.push(id);
          return openAiCall(c, id);
        });
      }
      if (message.content === '') message.content = null;
    }
    if (m.role === 'tool') {
      if (format === 'hf-chat') {
        if (m.name) message.name = m.name;
      } else {
        const id = m.tool_call_id ?? unanswered.shift();
        if (id !== undefined) {
          message.tool_call_id = id;
          const at = unanswered.indexOf(id);
          if (at >= 0) unanswered.splice(at, 1);
        }
      }
    }
    out.push(message);
  }
  return out;
}

/** The assistant message a step stands for, or why it cannot be one. */
function stepMessage(step: AgentAction, format: ExportFormat, id: string): OutMessage | string {
  if (step.action === 'respond') {
    const content = step.content ?? '';
    if (content.trim() === '') return 'the step is a reply with no text';
    return { role: 'assistant', content };
  }
  const call: ToolCall = { name: step.action, arguments: step.arguments };
  return {
    role: 'assistant',
    content: step.content && step.content.trim() !== '' ? step.content : null,
    tool_calls: [format === 'hf-chat' ? hfCall(call) : openAiCall(call, id)],
  };
}

function sameStep(a: AgentAction, b: AgentAction): boolean {
  return (
    a.action === b.action &&
    JSON.stringify(a.arguments) === JSON.stringify(b.arguments) &&
    (a.action !== 'respond' || (a.content ?? '').trim() === (b.content ?? '').trim())
  );
}

function toolList(tools: readonly ExportTool[]): Record<string, unknown>[] {
  return tools.map((t) => ({
    type: 'function',
    function: { name: t.name, description: t.description, parameters: t.parameters },
  }));
}

/** Builds the rows of one format from a version's examples (any order in; key order out). */
export function trainingExport(
  sources: readonly TrainingSource[],
  options: TrainingExportOptions,
): TrainingExport {
  const { format, redactor } = options;
  const withheld = { notTrain: 0, regressionSuite: 0, otherCluster: 0 };
  const skipped: TrainingExport['skipped'] = [];
  const rows: Record<string, unknown>[] = [];
  let redactions: RedactionCounts = {};
  const clean = <T>(value: T): T => {
    const r = redactor.redactValue(value);
    redactions = addCounts(redactions, r.counts);
    return r.value as T;
  };
  const tools = toolList(options.tools);
  const sorted = [...sources].sort((a, b) =>
    a.example.key < b.example.key ? -1 : a.example.key > b.example.key ? 1 : 0,
  );

  for (const { example, agentStep } of sorted) {
    if (example.split !== 'train') {
      withheld.notTrain++;
      continue;
    }
    if (example.slices.includes(REGRESSION_SLICE)) {
      withheld.regressionSuite++;
      continue;
    }
    if (
      options.clusterStableId !== undefined &&
      example.lineage.clusterStableId !== options.clusterStableId
    ) {
      withheld.otherCluster++;
      continue;
    }
    const key = example.key;
    const input = z.object({ messages: z.array(ChatMessage).min(1) }).safeParse(example.input);
    if (!input.success) {
      skipped.push({ key, reason: 'its input has no readable conversation' });
      continue;
    }
    const expected = AgentAction.safeParse(example.expected);
    if (!expected.success) {
      skipped.push({ key, reason: 'its expected step is not an agent action' });
      continue;
    }
    // Conversation and steps are redacted; the lineage ids and the agent's tool schemas are
    // not (an id's digits could read as a phone number).
    const messages = clean(conversation(input.data.messages, format));
    if (options.systemPrompt && !messages.some((m) => m.role === 'system'))
      messages.unshift({ role: 'system', content: options.systemPrompt });
    const chosenStep = stepMessage(expected.data, format, 'call_expected');
    if (typeof chosenStep === 'string') {
      skipped.push({ key, reason: `expected: ${chosenStep}` });
      continue;
    }
    const lineage = options.withoutLineage
      ? {}
      : {
          metadata: {
            exampleId: example.id,
            exampleKey: key,
            datasetVersionId: example.datasetVersionId,
            traceId: example.lineage.traceId,
            clusterId: example.lineage.clusterId,
            clusterStableId: example.lineage.clusterStableId,
            annotationId: example.lineage.annotationId,
            cycleId: example.lineage.cycleId,
          },
        };

    if (format === 'openai-dpo') {
      const taken = AgentAction.safeParse(agentStep);
      if (!taken.success) {
        skipped.push({ key, reason: 'no step of the agent was recorded for its trace (imported example?)' });
        continue;
      }
      if (sameStep(taken.data, expected.data)) {
        skipped.push({ key, reason: 'the agent took the expected step: nothing to prefer' });
        continue;
      }
      const rejected = stepMessage(taken.data, format, 'call_taken');
      if (typeof rejected === 'string') {
        skipped.push({ key, reason: `agent's step: ${rejected}` });
        continue;
      }
      rows.push({
        input: { messages, tools, parallel_tool_calls: false },
        preferred_output: [clean(chosenStep)],
        non_preferred_output: [clean(rejected)],
        ...lineage,
      });
      continue;
    }
    rows.push({ messages: [...messages, clean(chosenStep)], tools, ...lineage });
  }
  return { rows, skipped, withheld, redactions };
}
