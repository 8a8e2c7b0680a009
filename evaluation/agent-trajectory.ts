import type { AgentAction, ChatMessage, Span, ToolCall, TraceRecord } from '../schemas/trace.js';
import { orderSpans } from '../traces/span-order.js';

/** One thing the agent did, in order: a tool call, or its final text reply (`respond`). */
export interface AgentStep {
  /** Position in the trajectory (0-based); findings point at it. */
  step: number;
  action: string;
  arguments: Record<string, unknown>;
  /** The tool span that executed the call, when the trace has one. */
  spanId?: string;
  /** The failure text when the call is known to have failed (a tool span with status `error`). */
  error?: string;
  /** The text of a `respond` step. */
  content?: string;
}

function fromToolSpans(spans: readonly Span[]): Omit<AgentStep, 'step'>[] {
  return orderSpans(spans)
    .filter((span) => span.kind === 'tool' && span.tool !== undefined)
    .map((span) => {
      const tool = span.tool!;
      return {
        action: tool.name,
        arguments: tool.arguments ?? {},
        spanId: span.spanId,
        ...(span.status === 'error' ? { error: span.statusMessage ?? tool.result ?? 'the tool failed' } : {}),
      };
    });
}

function callsOf(messages: readonly ChatMessage[]): ToolCall[] {
  return messages.filter((m) => m.role === 'assistant').flatMap((m) => m.tool_calls ?? []);
}

function sameCall(call: ToolCall | undefined, action: { action: string; arguments: unknown }): boolean {
  return (
    call !== undefined &&
    call.name === action.action &&
    JSON.stringify(call.arguments) === JSON.stringify(action.arguments)
  );
}

/**
 * Without tool spans the calls come from the conversation: the assistant tool calls in the
 * input, then the final step. `output` holds only the first of parallel calls, so the last
 * LLM span's output messages supply the others when they start with that same call.
 */
function fromMessages(trace: TraceRecord): Omit<AgentStep, 'step'>[] {
  const history = callsOf(trace.input.messages).map((c) => ({ action: c.name, arguments: c.arguments }));
  if (trace.output.action === 'respond') return history;
  const lastLlm = trace.spans
    .filter((s) => s.kind === 'llm' && s.outputMessages !== undefined)
    .reduce<Span | undefined>(
      (a, s) => (a === undefined || Date.parse(s.endTime) >= Date.parse(a.endTime) ? s : a),
      undefined,
    );
  const finalCalls = callsOf(lastLlm?.outputMessages ?? []);
  const final = sameCall(finalCalls[0], trace.output)
    ? finalCalls.map((c) => ({ action: c.name, arguments: c.arguments }))
    : [{ action: trace.output.action, arguments: trace.output.arguments }];
  return [...history, ...final];
}

/**
 * The ordered tool calls the agent made — from the tool spans when the trace has them
 * (they carry each call's outcome), else from the conversation — followed by the final
 * text reply when the trace ends with one. Pure.
 */
export function agentActions(trace: TraceRecord): AgentStep[] {
  const hasToolSpans = trace.spans.some((s) => s.kind === 'tool' && s.tool !== undefined);
  const calls = hasToolSpans ? fromToolSpans(trace.spans) : fromMessages(trace);
  const steps: Omit<AgentStep, 'step'>[] =
    trace.output.action === 'respond'
      ? [...calls, { action: 'respond', arguments: {}, content: trace.output.content ?? '' }]
      : calls;
  return steps.map((s, step) => ({ step, ...s }));
}

/** The agent's final text reply, or null when the trace ends on a tool call. */
export function finalReply(trace: TraceRecord): string | null {
  return trace.output.action === 'respond' ? (trace.output.content ?? '') : null;
}

/** What the judge reads as the agent's steps: every call of a trajectory, or the one step. */
export function judgedSteps(trace: TraceRecord): AgentAction[] {
  const actions = agentActions(trace).map((a) => ({ action: a.action, arguments: a.arguments }));
  const last = actions.at(-1);
  const sameAsOutput =
    last?.action === trace.output.action &&
    JSON.stringify(last.arguments) === JSON.stringify(trace.output.arguments);
  return sameAsOutput ? actions : [...actions, trace.output];
}
