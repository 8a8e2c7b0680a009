import { z } from 'zod';
import { TraceRecord, type ChatMessage, type Span } from '../schemas/trace.js';
import { OpenAiMessage, spanIdFor, toAgentAction, toChatMessage } from './openai-chat-import.js';
import { formatIssues } from '../schemas/format-issues.js';

/** A gold action of a tau-bench task: the tool the agent should call and its arguments. */
export const TauBenchAction = z.object({
  name: z.string().min(1),
  kwargs: z.record(z.string(), z.unknown()).default({}),
});

/**
 * One tau-bench run result (`EnvRunResult`): the task, its reward and the conversation,
 * whose messages are OpenAI chat messages. `info` and `info.task` stay loose so the keys
 * this importer does not name (`source`, `user_cost`, ...) survive into the attributes.
 */
export const TauBenchTrajectory = z.object({
  task_id: z.union([z.number().int().nonnegative(), z.string().min(1)]),
  trial: z.number().int().nonnegative(),
  reward: z.number().min(0).max(1),
  info: z.looseObject({
    task: z.looseObject({
      user_id: z.string().min(1),
      instruction: z.string(),
      actions: z.array(TauBenchAction),
      outputs: z.array(z.string()).default([]),
    }),
    reward_info: z.unknown().optional(),
  }),
  traj: z.array(OpenAiMessage).min(1),
});
export type TauBenchTrajectory = z.infer<typeof TauBenchTrajectory>;

/** Each trajectory gets its own minute; messages are a second apart inside it. */
const ITEM_SPACING_MS = 60_000;
const MESSAGE_SPACING_MS = 1_000;

/** tau-bench tools report a failure by returning text that starts with `Error` (e.g. `Error: not enough seats`). */
function isToolError(result: string | null): boolean {
  return result !== null && result.startsWith('Error');
}

const knownTaskKeys = new Set(['user_id', 'instruction', 'actions', 'outputs']);

function mapTrajectory(
  t: TauBenchTrajectory,
  index: number,
  options: { agent: string; source: string; model?: string | undefined },
  baseMs: number,
): TraceRecord | string {
  const id = `tau-bench:${options.source}:${t.task_id}:${t.trial}`;
  const messages: ChatMessage[] = t.traj.map(toChatMessage);
  const final = messages.findLastIndex((m) => m.role === 'assistant');
  if (final < 0) return 'traj: no assistant message to take as the output';
  if (final === 0) return 'traj: the first assistant message has no conversation before it';

  const startMs = baseMs + index * ITEM_SPACING_MS;
  const at = (position: number) => new Date(startMs + position * MESSAGE_SPACING_MS).toISOString();
  const lastPosition = messages.length - 1;
  const model = options.model ? { model: options.model } : {};

  const rootId = spanIdFor(id, 0);
  let nextSpan = 1;
  const spans: Span[] = [
    {
      spanId: rootId,
      parentSpanId: null,
      name: options.agent,
      kind: 'agent',
      startTime: at(0),
      endTime: at(lastPosition),
      latencyMs: lastPosition * MESSAGE_SPACING_MS,
      status: 'ok',
      attributes: { 'tau_bench.task_id': t.task_id, 'tau_bench.trial': t.trial },
    },
  ];
  // tau-bench reuses tool-call ids inside one conversation, so a result is the first
  // unclaimed tool message with the call's id between this assistant message and the next.
  const claimed = new Set<number>();
  messages.forEach((message, position) => {
    if (message.role !== 'assistant') return;
    const llmId = spanIdFor(id, nextSpan++);
    spans.push({
      spanId: llmId,
      parentSpanId: rootId,
      name: options.model ? `chat ${options.model}` : 'chat',
      kind: 'llm',
      startTime: at(Math.max(position - 1, 0)),
      endTime: at(position),
      latencyMs: position > 0 ? MESSAGE_SPACING_MS : 0,
      status: 'ok',
      ...model,
      inputMessages: messages.slice(0, position),
      outputMessages: [message],
      attributes: {},
    });
    for (const call of message.tool_calls ?? []) {
      let resultAt = -1;
      for (let j = position + 1; j < messages.length && messages[j]!.role !== 'assistant'; j++) {
        const candidate = messages[j]!;
        if (candidate.role === 'tool' && !claimed.has(j) && candidate.tool_call_id === call.id) {
          resultAt = j;
          break;
        }
      }
      if (resultAt >= 0) claimed.add(resultAt);
      const result = resultAt >= 0 ? (messages[resultAt]!.content ?? '') : null;
      // A call whose result never arrived (the conversation ended) stays `unset`.
      const status = result === null ? 'unset' : isToolError(result) ? 'error' : 'ok';
      spans.push({
        spanId: spanIdFor(id, nextSpan++),
        parentSpanId: llmId,
        name: call.name,
        kind: 'tool',
        startTime: at(position),
        endTime: at(resultAt >= 0 ? resultAt : position),
        latencyMs: resultAt >= 0 ? (resultAt - position) * MESSAGE_SPACING_MS : 0,
        status,
        ...(status === 'error' && result !== null ? { statusMessage: result } : {}),
        tool: {
          name: call.name,
          ...(call.id ? { callId: call.id } : {}),
          arguments: call.arguments,
          ...(result !== null ? { result } : {}),
        },
        attributes: {},
      });
    }
  });

  const { task, reward_info: rewardInfo, ...otherInfo } = t.info;
  const attributes: Record<string, unknown> = {
    'tau_bench.task_id': t.task_id,
    'tau_bench.trial': t.trial,
    'tau_bench.instruction': task.instruction,
    'tau_bench.outputs': task.outputs,
    ...(rewardInfo !== undefined ? { 'tau_bench.reward_info': rewardInfo } : {}),
  };
  for (const [key, value] of Object.entries(otherInfo)) attributes[`tau_bench.info.${key}`] = value;
  for (const [key, value] of Object.entries(task)) {
    if (!knownTaskKeys.has(key)) attributes[`tau_bench.task.${key}`] = value;
  }

  return {
    id,
    agent: options.agent,
    sessionId: id,
    userId: task.user_id,
    timestamp: at(0),
    endTimestamp: at(lastPosition),
    latencyMs: lastPosition * MESSAGE_SPACING_MS,
    ...model,
    input: { messages: messages.slice(0, final) },
    output: toAgentAction(messages[final]!),
    expectedActions: task.actions.map((a) => ({ action: a.name, arguments: a.kwargs })),
    outcome: t.reward === 1 ? 'success' : 'failure',
    reward: t.reward,
    status: 'ok',
    spans,
    attributes,
  };
}

// The mapping builds typed output directly, so only the fields with constraints the types
// cannot express are validated; re-parsing whole traces would cost most of the import time
// and copy every message object, which message-level deduplication in storage relies on.
const TraceHead = TraceRecord.pick({ id: true, agent: true, timestamp: true, reward: true });

/**
 * Maps a tau-bench results file (an array of trajectories) to normalized traces. Each
 * trajectory becomes one trace whose output is the final assistant step and whose spans
 * replay the whole conversation (an `agent` root, an `llm` span per assistant message, a
 * `tool` span per call). Ids derive from source, task and trial and times from `baseTime`
 * and the item's position, so importing the same file twice yields the same traces. A bad
 * trajectory is reported by its index (`-1` for a file that is not an array) and skipped.
 */
export function tauBenchToTraces(
  json: unknown,
  options: { agent: string; source: string; baseTime: string; model?: string },
): { traces: TraceRecord[]; errors: { item: number; error: string }[] } {
  const base = z.iso.datetime({ offset: true }).safeParse(options.baseTime);
  if (!base.success) throw new RangeError(`baseTime is not an ISO datetime: ${options.baseTime}`);
  const baseMs = new Date(base.data).getTime();

  if (!Array.isArray(json)) {
    return { traces: [], errors: [{ item: -1, error: 'expected an array of tau-bench trajectories' }] };
  }
  const traces: TraceRecord[] = [];
  const errors: { item: number; error: string }[] = [];
  const firstItemOf = new Map<string, number>();
  json.forEach((value: unknown, item) => {
    const parsed = TauBenchTrajectory.safeParse(value);
    if (!parsed.success) {
      errors.push({ item, error: formatIssues(parsed.error, { root: '(record)' }) });
      return;
    }
    const mapped = mapTrajectory(parsed.data, item, options, baseMs);
    if (typeof mapped === 'string') {
      errors.push({ item, error: mapped });
      return;
    }
    // The same task and trial twice would collapse into one stored trace; say so instead.
    const first = firstItemOf.get(mapped.id);
    if (first !== undefined) {
      errors.push({ item, error: `same task_id and trial as item ${first} (id ${mapped.id})` });
      return;
    }
    const head = TraceHead.safeParse(mapped);
    if (!head.success) {
      errors.push({ item, error: formatIssues(head.error, { root: '(record)' }) });
      return;
    }
    firstItemOf.set(mapped.id, item);
    traces.push(mapped);
  });
  return { traces, errors };
}
