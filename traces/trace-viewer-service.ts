import { z } from 'zod';
import type { Db } from '../db/connection.js';
import { traceAnnotationItems } from '../annotation/store/annotation-reads.js';
import { traceScores } from '../evaluation/store/score-repository.js';
import { agentConfig } from '../registry/agent-service.js';
import { traceLineageRows } from '../registry/lineage-service.js';
import type { AgentConfig } from '../schemas/agent-config.js';
import { encodeTraceCursor, parseTraceListQuery } from '../schemas/trace-list-query.js';
import { AgentAction, ChatMessage, Span, type TraceRecord } from '../schemas/trace.js';
import { NotFoundError } from '../schemas/user-error.js';
import { addCounts, compileRedactor, type RedactionCounts, type Redactor } from './pii-redaction.js';
import { buildSpanTree } from './span-tree.js';
import { listTraceRows, type TraceListRow } from './store/trace-browser.js';
import { readTrace } from './store/trace-reader.js';
import type { TraceDetail, TraceLineageSummary, TraceListItem, TraceListPage } from './trace-view.js';

/**
 * The trace viewer's operations, shared by `GET /api/traces[/:id]` and `flywheel trace
 * list|show`. Query input is parsed here (schemas/trace-list-query.ts), so a transport only
 * hands over its parameters. Every text a person reads passes the agent's PII redaction
 * first, as a sample's copy does: the architecture keeps raw traces away from humans, and
 * these routes have no authentication yet.
 */

/**
 * The agent's redactor; the default one (every built-in kind) when the agent is not
 * registered or its configuration does not validate, so a bad configuration never shows
 * more. A database error is not swallowed: the request fails as any other would.
 */
async function redactorOf(db: Db, agent: string): Promise<Redactor> {
  let config: AgentConfig['redaction'];
  try {
    config = (await agentConfig(db, agent)).redaction;
  } catch (error) {
    if (error instanceof NotFoundError || error instanceof z.ZodError) return compileRedactor();
    throw error;
  }
  try {
    return compileRedactor(config);
  } catch {
    return compileRedactor();
  }
}

/** Redacts every string in a value and counts the replacements; callers parse the result back with its schema. */
class Redaction {
  counts: RedactionCounts = {};
  constructor(private readonly redactor: Redactor) {}

  value(value: unknown): unknown {
    const { value: out, counts } = this.redactor.redactValue(value);
    this.counts = addCounts(this.counts, counts);
    return out;
  }

  text(text: string | undefined): string | undefined {
    if (text === undefined) return undefined;
    const { text: out, counts } = this.redactor.redactText(text);
    this.counts = addCounts(this.counts, counts);
    return out;
  }
}

const Attributes = z.record(z.string(), z.unknown());

/** The object without its null and undefined fields: absent, as in the normalized trace model. */
const defined = <T extends object>(o: T): { [K in keyof T]: Exclude<T[K], null> } =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== null && v !== undefined)) as {
    [K in keyof T]: Exclude<T[K], null>;
  };

function listItem(r: TraceListRow, redactor: Redactor): TraceListItem {
  const text = (s: string | null) => (s === null ? undefined : redactor.redactText(s).text);
  const action = r.output_action ?? '?';
  const preview =
    action === 'respond' ? (text(r.output_content) ?? '') : `${action}(${text(r.output_arguments) ?? ''})`;
  const usage = defined({ inputTokens: r.input_tokens, outputTokens: r.output_tokens });
  return defined({
    id: r.id,
    agent: r.agent_id,
    timestamp: r.started_at.toISOString(),
    endTimestamp: r.ended_at?.toISOString(),
    status: r.status,
    outcome: r.outcome,
    feedback: r.feedback === null ? undefined : defined({ score: r.feedback, text: text(r.feedback_text) }),
    promptName: r.prompt_name,
    promptVersion: r.prompt_version,
    model: r.model,
    sessionId: text(r.session_id),
    userId: text(r.user_id),
    latencyMs: r.latency_ms,
    costUsd: r.cost_usd,
    usage: Object.keys(usage).length > 0 ? usage : undefined,
    input: text(r.input_preview) ?? '',
    output: { action, preview },
  });
}

/**
 * One page of traces, newest first. `params` are the query parameters as sent (a
 * URLSearchParams, or a record from the CLI); bad ones are a UserError saying what to send.
 */
export async function listTraces(
  db: Db,
  params: URLSearchParams | Record<string, string | undefined>,
): Promise<TraceListPage> {
  const filter = parseTraceListQuery(params);
  // One row more than the page tells whether an older page exists.
  const rows = await listTraceRows(db, filter, filter.limit + 1);
  const page = rows.slice(0, filter.limit);
  const redactors = new Map<string, Redactor>();
  for (const agent of new Set(page.map((r) => r.agent_id))) redactors.set(agent, await redactorOf(db, agent));
  const last = page.at(-1);
  return {
    traces: page.map((r) => listItem(r, redactors.get(r.agent_id)!)),
    nextCursor:
      rows.length > filter.limit && last ? encodeTraceCursor({ t: last.started_at_exact, i: last.id }) : null,
  };
}

function lineageSummary(rows: Awaited<ReturnType<typeof traceLineageRows>>): TraceLineageSummary {
  return {
    promptVersion: rows.promptVersion
      ? { id: rows.promptVersion.id, name: rows.promptVersion.name, version: rows.promptVersion.version }
      : null,
    samples: rows.samples.map((s) => ({
      cycleId: s.cycle_id,
      reasons: s.reasons.length > 0 ? s.reasons : [s.reason],
      cycleStartedAt: s.started_at.toISOString(),
      stage: s.stage,
      outcome: s.outcome,
    })),
    clusters: rows.clusters.map((c) => ({
      clusterId: c.id,
      stableId: c.stable_id,
      cycleId: c.cycle_id,
      name: c.name,
      category: c.category,
      intervention: c.intervention,
      noise: c.noise,
      latest: c.latest,
    })),
    datasetExamples: rows.examples.map((e) => ({
      exampleId: e.id,
      datasetVersionId: e.dataset_version_id,
      dataset: e.name,
      version: e.version,
      split: e.split,
      slices: e.slices,
      published: e.published_at !== null,
    })),
  };
}

function header(t: TraceRecord, r: Redaction): TraceDetail['trace'] {
  const text = (s: string | undefined) => r.text(s);
  return defined({
    id: t.id,
    agent: t.agent,
    timestamp: t.timestamp,
    endTimestamp: t.endTimestamp,
    status: t.status,
    outcome: t.outcome,
    feedback: t.feedback ? defined({ score: t.feedback.score, text: text(t.feedback.text) }) : undefined,
    promptName: t.promptName,
    promptVersion: t.promptVersion,
    model: t.model,
    sessionId: text(t.sessionId),
    userId: text(t.userId),
    latencyMs: t.latencyMs,
    costUsd: t.costUsd,
    usage: t.usage,
    reward: t.reward,
    attributes: Attributes.parse(r.value(t.attributes)),
  });
}

/** One trace with its span tree, transcript, scores, annotations and lineage; 404 for an unknown id. */
export async function showTrace(db: Db, id: string): Promise<TraceDetail> {
  const trace = await readTrace(db, id);
  if (!trace)
    throw new NotFoundError(
      `No trace "${id}": it was never stored, or its day's partition passed the agent's retention. List traces with GET /api/traces or \`flywheel trace list\`.`,
    );
  const [scores, items, lineage, redactor] = await Promise.all([
    traceScores(db, id),
    traceAnnotationItems(db, id),
    traceLineageRows(db, {
      id,
      agent: trace.agent,
      promptName: trace.promptName ?? null,
      promptVersion: trace.promptVersion ?? null,
    }),
    redactorOf(db, trace.agent),
  ]);
  const r = new Redaction(redactor);
  const detailHeader = header(trace, r);
  const transcript: TraceDetail['transcript'] = {
    messages: z.array(ChatMessage).parse(r.value(trace.input.messages)),
    output: AgentAction.parse(r.value(trace.output)),
    ...(trace.expected ? { expected: AgentAction.parse(r.value(trace.expected)) } : {}),
  };
  // Ids and times are structure, not content: a custom pattern (or a Luhn-valid all-digit
  // span id) must not cut the tree apart.
  const spans = trace.spans.map(({ spanId, parentSpanId, startTime, endTime, ...content }) =>
    Span.parse({ ...Attributes.parse(r.value(content)), spanId, parentSpanId, startTime, endTime }),
  );
  return {
    trace: detailHeader,
    transcript,
    spans: buildSpanTree(spans),
    scores: scores.map((s) => ({
      cycleId: s.cycle_id,
      evaluator: s.evaluator,
      dimension: s.dimension,
      source: s.source,
      value: s.value,
      label: s.label,
      category: s.category,
      explanation: s.explanation,
      confidence: s.confidence,
      rubricVersion: s.rubric_version,
      createdAt: s.created_at.toISOString(),
    })),
    annotations: items.map((i) => ({
      itemId: i.id,
      cycleId: i.cycle_id,
      queueId: i.queue_id,
      clusterId: i.cluster_id,
      status: i.status,
      judgeLabel: i.judge_label,
      judgeCategory: i.judge_category,
      consensusVerdict: i.consensus_verdict,
      labels: i.labels.map((l) => ({
        reviewer: l.reviewer,
        verdict: l.verdict,
        category: l.category,
        comment: l.comment,
        expected: l.expected,
        dimensions: l.dimensions,
        scores: l.scores,
        slices: l.slices,
        createdAt: l.created_at.toISOString(),
      })),
    })),
    lineage: lineageSummary(lineage),
    redactions: r.counts,
  };
}
