import type { AgentAction, ChatMessage, TokenUsage } from '../schemas/trace.js';
import type { SpanTree } from './span-tree.js';

/**
 * What the trace viewer answers (`GET /api/traces`, `GET /api/traces/:id`, `flywheel trace
 * list|show`). Text a person reads has passed the agent's PII redaction, as sampled copies
 * have: the raw trace never leaves the traces table.
 */

/** One line of the trace list. */
export interface TraceListItem {
  id: string;
  agent: string;
  timestamp: string;
  endTimestamp?: string;
  status: string;
  outcome?: string;
  feedback?: { score: number; text?: string };
  promptName?: string;
  promptVersion?: number;
  model?: string;
  sessionId?: string;
  userId?: string;
  latencyMs?: number;
  costUsd?: number;
  usage?: TokenUsage;
  /** The last user message, cut to a preview. */
  input: string;
  /** The step the agent took: a tool call's name and arguments, or the reply's start. */
  output: { action: string; preview: string };
}

export interface TraceListPage {
  traces: TraceListItem[];
  /** Pass as `cursor` to get the next (older) page; null on the last page. */
  nextCursor: string | null;
}

/** One score of the trace, from the scores table (code checks, the judge, humans). */
export interface TraceScore {
  /** The cycle that scored it; null for online evaluation of live traffic. */
  cycleId: string | null;
  evaluator: string;
  dimension: string;
  source: string;
  value: number;
  label: string;
  category: string | null;
  explanation: string;
  confidence: number;
  rubricVersion: number | null;
  createdAt: string;
}

/** A review queue item of the trace with the reviewers' labels. */
export interface TraceAnnotation {
  itemId: string;
  cycleId: string;
  queueId: string | null;
  clusterId: string | null;
  status: string;
  judgeLabel: string;
  judgeCategory: string | null;
  consensusVerdict: string | null;
  labels: {
    reviewer: string;
    verdict: string;
    category: string | null;
    comment: string | null;
    expected: unknown;
    dimensions: Record<string, string>;
    scores: Record<string, unknown>;
    slices: string[];
    createdAt: string;
  }[];
}

/** Where the trace went: the cycles that sampled it, its clusters and the dataset versions holding it. */
export interface TraceLineageSummary {
  /** The prompt version that produced the trace, when the trace names one that is registered. */
  promptVersion: { id: string; name: string; version: number } | null;
  samples: { cycleId: string; reasons: string[]; cycleStartedAt: string; stage: string; outcome: string }[];
  clusters: {
    clusterId: string;
    stableId: string | null;
    cycleId: string;
    name: string;
    category: string;
    intervention: string | null;
    noise: boolean;
    /** The cluster of the latest cycle that clustered the trace (what the list's cluster filter matches). */
    latest: boolean;
  }[];
  datasetExamples: {
    exampleId: string;
    datasetVersionId: string;
    dataset: string;
    version: number;
    split: string;
    slices: string[];
    published: boolean;
  }[];
}

export interface TraceDetail {
  trace: Omit<TraceListItem, 'input' | 'output'> & {
    attributes: Record<string, unknown>;
    reward?: number;
  };
  /** The normalized conversation the cycle learns from, and the step the agent took. */
  transcript: { messages: ChatMessage[]; output: AgentAction; expected?: AgentAction };
  spans: SpanTree;
  scores: TraceScore[];
  annotations: TraceAnnotation[];
  lineage: TraceLineageSummary;
  /** Replacements the agent's redaction made per kind in this answer. */
  redactions: Record<string, number>;
}
