import { lastRequest, recallMessages, suggestSituation } from '../coaching/coaching-correction.js';
import { localSituationEmbedder } from '../coaching/situation-embedder.js';
import {
  COACHING_CLUSTER_MAX,
  recommendCoaching,
  type CoachingCandidate,
  type CoachingRecommendation,
} from '../diagnosis/coaching-recommendation.js';
import { renderDiagnosisReport, type DiagnosisReportData } from '../diagnosis/diagnosis-report.js';
import { agentConfig } from '../registry/store/agent-repository.js';
import type { ClusterDiagnosis } from '../schemas/llm-outputs.js';
import { clusterSummaries, smallClusterMembers } from '../diagnosis/store/cluster-repository.js';
import type { Db } from '../db/connection.js';
import { saveCycleReport } from '../diagnosis/store/cycle-report-repository.js';
import { cycleCalibrations } from '../evaluation/store/judge-calibration-repository.js';
import { evaluatorErrorSummary } from '../evaluation/store/score-repository.js';
import { sampleCount } from '../traces/store/sample-repository.js';
import type { ActivityDeps } from './activity-deps.js';
import { traceVerdicts } from './cycle-verdicts.js';

/**
 * The coaching the report recommends, per cluster id (diagnosis/coaching-recommendation.ts).
 * Situations and requests are embedded by the local situation embedder: no model is called
 * for a recommendation, so writing the report costs nothing and stays deterministic.
 */
async function coachingRecommendations(
  db: Db,
  agent: string,
  cycleId: string,
  categories: Map<string, string>,
): Promise<Map<string, CoachingRecommendation>> {
  const rows = await smallClusterMembers(db, cycleId, COACHING_CLUSTER_MAX);
  const byCluster = new Map<string, typeof rows>();
  for (const r of rows) byCluster.set(r.cluster_id, [...(byCluster.get(r.cluster_id) ?? []), r]);
  const embedder = localSituationEmbedder();
  const out = new Map<string, CoachingRecommendation>();
  for (const [clusterId, members] of byCluster) {
    const texts = members.flatMap((m) => {
      const messages = recallMessages(m.messages);
      const request = lastRequest(messages);
      const situation = suggestSituation(messages);
      return request === null || situation === null ? [] : [{ member: m, request, situation }];
    });
    const vectors = await embedder.embed(texts.flatMap((t) => [t.request, t.situation]));
    const candidates: CoachingCandidate[] = texts.map((t, i) => ({
      traceId: t.member.trace_id,
      situation: t.situation,
      requestVector: vectors[2 * i]!,
      situationVector: vectors[2 * i + 1]!,
      correctedItemId: t.member.corrected_item_id,
    }));
    const recommendation = recommendCoaching(
      agent,
      { category: categories.get(clusterId) ?? 'undiagnosed', members: members.length },
      candidates,
    );
    if (recommendation) out.set(clusterId, recommendation);
  }
  return out;
}

export function createReportActivities({ db, taxonomy }: ActivityDeps) {
  return {
    /**
     * (Re)writes the cycle's diagnosis report from what is stored: after diagnosis, and
     * again once reviewers' labels have calibrated the judge.
     */
    async writeCycleReport(args: {
      cycleId: string;
      agent: string;
      judgeCalls: number;
      judgeCallsWithoutCascade: number;
    }): Promise<{ bytes: number }> {
      const ev = (await agentConfig(db, args.agent)).evaluation;
      const [sampled, verdicts, clusters, errors, calibration] = await Promise.all([
        sampleCount(db, args.cycleId),
        traceVerdicts(db, args.cycleId, ev.cascade.minCodeConfidence),
        clusterSummaries(db, args.cycleId),
        evaluatorErrorSummary(db, args.cycleId),
        cycleCalibrations(db, args.cycleId),
      ]);
      const coaching = await coachingRecommendations(
        db,
        args.agent,
        args.cycleId,
        new Map(clusters.map((c) => [c.id, c.category])),
      );
      const data: DiagnosisReportData = {
        cycleId: args.cycleId,
        agent: args.agent,
        taxonomy: `${taxonomy.name} ${taxonomy.version}`,
        embedder: clusters[0]?.embedder ?? 'none',
        sampled,
        scored: verdicts.size,
        failing: [...verdicts.values()].filter((v) => v.failing).length,
        judgeCalls: args.judgeCalls,
        judgeCallsWithoutCascade: args.judgeCallsWithoutCascade,
        evaluatorErrors: errors.map((e) => ({
          evaluator: e.evaluator,
          count: Number(e.n),
          example: String(e.example),
        })),
        clusters: clusters
          .map((c) => {
            const d = c.diagnosis as ClusterDiagnosis | null;
            return {
              stableId: c.stable_id ?? c.id,
              name: c.name,
              size: Number(c.core),
              noise: Number(c.noise),
              previousId: c.previous_id,
              category: c.category,
              subtype: d?.subtype ?? null,
              intervention: c.intervention,
              rootCause: d?.root_cause ?? null,
              immediateFix: d?.immediate_fix ?? null,
              failingStep: d
                ? `${d.failing_step.step === null ? '' : `step [${d.failing_step.step}] `}${d.failing_step.span_id ? `span ${d.failing_step.span_id} ` : ''}${d.failing_step.description}`
                : null,
              evidence: d?.evidence_trace_ids ?? [],
              diagnosisError: c.diagnosis_error,
              coaching: coaching.get(c.id) ?? null,
            };
          })
          .sort((a, b) => b.size + b.noise - (a.size + a.noise) || a.stableId.localeCompare(b.stableId)),
        calibration: calibration.map((c) => ({
          dimension: c.dimension,
          labels: c.labels,
          accuracy: c.accuracy,
          kappa: c.kappa,
          f1: c.f1,
          canGate: c.can_gate,
          reason: c.reason,
        })),
      };
      const markdown = renderDiagnosisReport(data);
      await saveCycleReport(db, args.cycleId, markdown, data);
      return { bytes: markdown.length };
    },
  };
}
