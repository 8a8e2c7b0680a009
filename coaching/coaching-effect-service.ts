import { z } from 'zod';
import type { Db } from '../db/connection.js';
import { audited, type ArtifactChangeResult } from '../registry/artifact-service.js';
import { appendAudit } from '../registry/store/audit-log.js';
import { COACHING_TRACE_ATTRIBUTE } from '../schemas/coaching.js';
import { formatIssues } from '../schemas/format-issues.js';
import { NotFoundError, UserError } from '../schemas/user-error.js';
import { readTrace } from '../traces/store/trace-reader.js';
import {
  applicationTags,
  appliedVersions,
  compareOutcomes,
  type EffectComparison,
} from './coaching-effect.js';
import { recallMessages } from './coaching-correction.js';
import { dotProduct, normalised, situationQuery } from './coaching-recall.js';
import { coachingHistory, showCoaching, type CoachingDeps, type CoachingView } from './coaching-service.js';
import { refineThreshold, type ThresholdRefinement } from './coaching-threshold.js';
import type { SituationEmbedder } from './situation-embedder.js';
import { appliedTraces, unappliedTraces } from './store/coaching-effect-repository.js';
import { coachingMarks, upsertCoachingMark, type CoachingMark } from './store/coaching-mark-repository.js';
import {
  appendCoachingVersion,
  coachingVersions,
  currentCoaching,
  lockCoaching,
} from './store/coaching-repository.js';

/**
 * A coaching's measured effect (where it was applied, success with it vs similar
 * conversations without it, reviewers' marks and the thresholds they gave it) and the marks
 * themselves: a reviewer says an application was correct or wrong, and the coaching's recall
 * threshold is recomputed from every mark (coaching-threshold.ts) as a new version.
 */

export const DEFAULT_EFFECT_DAYS = 30;
export const MAX_EFFECT_DAYS = 365;

/** The query string as sent (strings); the service reads the number. */
export const EffectQuery = z.object({
  days: z
    .string()
    .regex(/^[0-9]{1,4}$/, `days is a whole number of days, 1-${MAX_EFFECT_DAYS}`)
    .optional()
    .describe(
      `How many days back from now the traces are read (1-${MAX_EFFECT_DAYS}, default ${DEFAULT_EFFECT_DAYS})`,
    ),
});

export const MarkCoachingRequest = z.object({
  traceId: z.string().trim().min(1).max(200).describe('A trace that applied the coaching'),
  verdict: z.enum(['correct', 'wrong']).describe('Whether the coaching was correctly applied there'),
  comment: z.string().trim().min(1).max(2000).optional(),
});

/** Applications listed one by one (the counts cover every one in the window). */
export const SHOWN_APPLICATIONS = 100;
/** Applications counted at most (a busier coaching reports `capped`). */
export const COUNTED_APPLICATIONS = 10_000;
/** The agent's other traces scanned for similar conversations, newest first. */
export const SCANNED_TRACES = 2_000;
const EMBED_BATCH = 256;

const round = (x: number) => Math.round(x * 10_000) / 10_000;

export interface CoachingApplication {
  traceId: string;
  startedAt: string;
  /** The versions of the coaching the trace applied. */
  versions: number[];
  /** The step it applied at: the index of the trace's decision among its messages. */
  step: number;
  feedback: number | null;
  onlineJudge: 'pass' | 'fail' | null;
  marks: { reviewer: string; verdict: string }[];
}

export interface CoachingEffect {
  coaching: Pick<CoachingView, 'id' | 'agent' | 'version' | 'status' | 'situation' | 'threshold'> & {
    authorThreshold: number;
  };
  window: { from: string; to: string; days: number };
  applied: { traces: number; capped: boolean; shown: CoachingApplication[] };
  /** The conversations compared with: the agent's traces in the window, in the situation, without it. */
  baseline: {
    rule: string;
    scanned: number;
    capped: boolean;
    similar: number;
    embedder: string;
  };
  success: EffectComparison;
  marks: {
    correct: number;
    wrong: number;
    list: Omit<CoachingMark, 'coachingId' | 'createdAt' | 'updatedAt'>[];
  };
  /** The versions whose threshold differs from the version before (the first always), oldest first. */
  thresholds: { version: number; threshold: number; createdBy: string; reason: string; createdAt: string }[];
}

function parsed<T>(schema: z.ZodType<T>, input: unknown, what: string, stored = true): T {
  const result = schema.safeParse(input);
  if (!result.success)
    throw new UserError(
      `The ${what} is not valid (${formatIssues(result.error)})${stored ? '; nothing was stored' : ''}.`,
    );
  return result.data;
}

/** The coaching's situation as a unit vector of this process's embedder (re-embedded when stored by another). */
async function situationVector(db: Db, embedder: SituationEmbedder, agent: string, id: string) {
  const [current] = await currentCoaching(db, agent, { id });
  if (!current)
    throw new NotFoundError(
      `Agent ${agent} has no coaching ${id}; list them with \`flywheel coaching list ${agent}\`.`,
    );
  const vector =
    current.current.embedder === embedder.name
      ? current.current.embedding
      : (await embedder.embed([current.current.situation]))[0]!;
  return { current, vector: normalised(vector) };
}

async function similarities(
  embedder: SituationEmbedder,
  situation: Float32Array,
  queries: readonly string[],
): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < queries.length; i += EMBED_BATCH) {
    const vectors = await embedder.embed(queries.slice(i, i + EMBED_BATCH));
    for (const v of vectors)
      out.push(v.length === situation.length ? dotProduct(normalised(v), 0, situation, v.length) : 0);
  }
  return out;
}

/**
 * Where a coaching was applied in the last `days` days and how those conversations went,
 * next to the agent's conversations of the same window that were in its situation
 * (similarity to it at or above its current threshold, as recall measures it) but did not
 * apply it; the reviewers' marks; and every threshold it has had.
 */
export async function coachingEffect(
  deps: Pick<CoachingDeps, 'db' | 'embedder'>,
  agent: string,
  id: string,
  query: unknown,
  now: Date = new Date(),
): Promise<CoachingEffect> {
  const q = parsed(EffectQuery, query ?? {}, 'effect query', false);
  const days = q.days === undefined ? DEFAULT_EFFECT_DAYS : Number(q.days);
  if (days < 1 || days > MAX_EFFECT_DAYS)
    throw new UserError(`days is a whole number of days, 1-${MAX_EFFECT_DAYS}, not ${days}.`);
  const coaching = await showCoaching(deps.db, agent, id);
  const { current, vector } = await situationVector(deps.db, deps.embedder, agent, id);
  const versions = await coachingVersions(deps.db, id);
  const tags = applicationTags(id, Math.max(...versions.map((v) => v.version)));
  const window = { from: new Date(now.getTime() - days * 86_400_000), to: now };
  const [applied, others, marks] = await Promise.all([
    appliedTraces(deps.db, agent, tags, { ...window, limit: COUNTED_APPLICATIONS }),
    unappliedTraces(deps.db, agent, tags, { ...window, limit: SCANNED_TRACES }),
    coachingMarks(deps.db, id),
  ]);
  const queries = others.map((t) => situationQuery(recallMessages(t.messages)));
  const sims = await similarities(deps.embedder, vector, queries);
  const similar = others.filter((_, i) => queries[i]!.trim() !== '' && sims[i]! >= coaching.threshold);
  const marksOf = (traceId: string) =>
    marks.filter((m) => m.traceId === traceId).map((m) => ({ reviewer: m.reviewer, verdict: m.verdict }));
  let previous: number | null = null;
  const thresholds: CoachingEffect['thresholds'] = [];
  for (const v of await coachingHistory(deps.db, agent, id)) {
    if (v.threshold !== previous)
      thresholds.push({
        version: v.version,
        threshold: v.threshold,
        createdBy: v.createdBy,
        reason: v.reason,
        createdAt: v.createdAt,
      });
    previous = v.threshold;
  }
  return {
    coaching: {
      id: coaching.id,
      agent: coaching.agent,
      version: coaching.version,
      status: coaching.status,
      situation: coaching.situation,
      threshold: coaching.threshold,
      authorThreshold: current.current.authorThreshold,
    },
    window: { from: window.from.toISOString(), to: window.to.toISOString(), days },
    applied: {
      traces: applied.length,
      capped: applied.length === COUNTED_APPLICATIONS,
      shown: applied.slice(0, SHOWN_APPLICATIONS).map((t) => ({
        traceId: t.id,
        startedAt: t.startedAt.toISOString(),
        versions: appliedVersions({ [COACHING_TRACE_ATTRIBUTE]: t.applied }, id),
        step: t.step,
        feedback: t.feedback,
        onlineJudge: t.judgeScores === 0 ? null : t.judgeFailures === 0 ? 'pass' : 'fail',
        marks: marksOf(t.id),
      })),
    },
    baseline: {
      rule: `the agent's traces of the window that did not apply it and whose conversation reaches its threshold (${coaching.threshold}) of similarity to its situation`,
      scanned: others.length,
      capped: others.length === SCANNED_TRACES,
      similar: similar.length,
      embedder: deps.embedder.name,
    },
    success: compareOutcomes(applied, similar),
    marks: {
      correct: marks.filter((m) => m.verdict === 'correct').length,
      wrong: marks.filter((m) => m.verdict === 'wrong').length,
      list: marks.map(({ coachingId: _c, createdAt: _a, updatedAt: _u, ...m }) => m),
    },
    thresholds,
  };
}

export interface MarkResult {
  mark: CoachingMark;
  threshold: {
    before: number;
    after: number;
    author: number;
    changed: boolean;
    bounds: ThresholdRefinement['bounds'];
    misjudged: ThresholdRefinement['misjudged'];
  };
  coaching: CoachingView;
  /** The new version when the threshold moved; null otherwise. */
  change: ArtifactChangeResult | null;
}

/**
 * A reviewer's mark on one application of a coaching: the trace must have applied it. The
 * mark records how similar that conversation was to the situation (what recall compared
 * with the threshold); the coaching's threshold is then recomputed from every mark, and when
 * it moves, that is a new version of the coaching (audited, announced, rolled back like any
 * other). The mark and its audit record are written in the same transaction.
 */
export async function markCoaching(
  deps: CoachingDeps,
  agent: string,
  id: string,
  input: unknown,
  reviewer: string,
): Promise<MarkResult> {
  const req = parsed(MarkCoachingRequest, input, 'mark');
  await showCoaching(deps.db, agent, id);
  const trace = await readTrace(deps.db, req.traceId);
  if (!trace || trace.agent !== agent)
    throw new NotFoundError(`Agent ${agent} has no trace ${req.traceId}; nothing was stored.`);
  const versions = appliedVersions(trace.attributes, id);
  if (versions.length === 0)
    throw new UserError(
      `Trace ${req.traceId} did not apply coaching ${id} (its ${COACHING_TRACE_ATTRIBUTE}: ${JSON.stringify(trace.attributes[COACHING_TRACE_ATTRIBUTE] ?? [])}); mark one of the traces \`flywheel coaching effect ${agent} ${id}\` lists. Nothing was stored.`,
    );
  const { vector } = await situationVector(deps.db, deps.embedder, agent, id);
  const query = situationQuery(recallMessages(trace.input.messages));
  const [similarity] = query.trim() === '' ? [0] : await similarities(deps.embedder, vector, [query]);

  // What the transaction wrote, for the answer (the write returns only the version change).
  const written: {
    outcome?: { mark: CoachingMark; before: number; author: number; refinement: ThresholdRefinement };
  } = {};
  const change = await audited(deps.db, deps.artifacts ?? {}, async (tx) => {
    const record = await lockCoaching(tx, agent, id);
    const current = (await coachingVersions(tx, id)).find((v) => v.version === record.version)!;
    const others = (await coachingMarks(tx, id)).filter(
      (m) => !(m.traceId === req.traceId && m.reviewer === reviewer),
    );
    const mark = { similarity: round(similarity ?? 0), verdict: req.verdict };
    const refinement = refineThreshold(current.authorThreshold, [...others, mark]);
    const stored = await upsertCoachingMark(tx, {
      coachingId: id,
      traceId: req.traceId,
      reviewer,
      verdict: req.verdict,
      appliedVersion: versions[versions.length - 1]!,
      similarity: mark.similarity,
      embedder: deps.embedder.name,
      comment: req.comment ?? null,
      thresholdBefore: current.threshold,
      thresholdAfter: refinement.threshold,
    });
    written.outcome = {
      mark: stored,
      before: current.threshold,
      author: current.authorThreshold,
      refinement,
    };
    await appendAudit(tx, {
      actor: reviewer,
      action: 'coaching.mark',
      artifact: `coaching:${agent}/${id}`,
      detail: {
        agent,
        coaching: id,
        trace: req.traceId,
        verdict: req.verdict,
        similarity: mark.similarity,
        thresholdBefore: current.threshold,
        thresholdAfter: refinement.threshold,
      },
    });
    if (refinement.threshold === current.threshold) return null;
    const reason = `threshold ${current.threshold} → ${refinement.threshold} from reviewers' marks (${refinement.marks.correct} correctly applied, ${refinement.marks.wrong} wrongly applied; trace ${req.traceId} marked ${req.verdict} at similarity ${mark.similarity})`;
    const { version: _v, createdAt: _c, ...rest } = current;
    const to = await appendCoachingVersion(tx, id, {
      ...rest,
      threshold: refinement.threshold,
      authorThreshold: current.authorThreshold,
      createdBy: reviewer,
      reason,
    });
    return {
      agent,
      actor: reviewer,
      reason,
      action: 'coaching.threshold',
      artifact: `coaching ${id}`,
      auditArtifact: `coaching:${agent}/${id}`,
      from: record.version,
      to,
      detail: { coaching: id, threshold: refinement.threshold, previous: current.threshold },
    };
  });
  const done = written.outcome;
  if (!done) throw new Error(`the mark on ${req.traceId} was not written`);
  return {
    mark: done.mark,
    threshold: {
      before: done.before,
      after: done.refinement.threshold,
      author: done.author,
      changed: done.refinement.threshold !== done.before,
      bounds: done.refinement.bounds,
      misjudged: done.refinement.misjudged,
    },
    coaching: await showCoaching(deps.db, agent, id),
    change,
  };
}
