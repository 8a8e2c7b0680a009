import { renderDiagnosisReport, type DiagnosisReportData } from '../diagnosis/diagnosis-report.js';
import { agentConfig } from '../registry/store/agent-repository.js';
import type { ClusterDiagnosis } from '../schemas/llm-outputs.js';
import type { ActivityDeps } from './activity-deps.js';
import { traceVerdicts } from './cycle-verdicts.js';

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
        db
          .selectFrom('samples')
          .select((eb) => eb.fn.countAll<string>().as('n'))
          .where('cycle_id', '=', args.cycleId)
          .executeTakeFirstOrThrow(),
        traceVerdicts(db, args.cycleId, ev.cascade.minCodeConfidence),
        db
          .selectFrom('clusters')
          .leftJoin('cluster_members', 'cluster_members.cluster_id', 'clusters.id')
          .select([
            'clusters.id',
            'clusters.stable_id',
            'clusters.name',
            'clusters.category',
            'clusters.previous_id',
            'clusters.diagnosis',
            'clusters.diagnosis_error',
            'clusters.intervention',
            'clusters.embedder',
            (eb) =>
              eb.fn
                .count<string>('cluster_members.trace_id')
                .filterWhere('cluster_members.noise', '=', false)
                .as('core'),
            (eb) =>
              eb.fn
                .count<string>('cluster_members.trace_id')
                .filterWhere('cluster_members.noise', '=', true)
                .as('noise'),
          ])
          .where('clusters.cycle_id', '=', args.cycleId)
          .groupBy('clusters.id')
          .execute(),
        db
          .selectFrom('evaluator_errors')
          .select([
            'evaluator',
            (eb) => eb.fn.countAll<string>().as('n'),
            (eb) => eb.fn.min('error').as('example'),
          ])
          .where('cycle_id', '=', args.cycleId)
          .groupBy('evaluator')
          .orderBy('evaluator')
          .execute(),
        db
          .selectFrom('judge_calibrations')
          .selectAll()
          .where('cycle_id', '=', args.cycleId)
          .orderBy('dimension')
          .execute(),
      ]);
      const data: DiagnosisReportData = {
        cycleId: args.cycleId,
        agent: args.agent,
        taxonomy: `${taxonomy.name} ${taxonomy.version}`,
        embedder: clusters[0]?.embedder ?? 'none',
        sampled: Number(sampled.n),
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
      await db
        .insertInto('cycle_reports')
        .values({ cycle_id: args.cycleId, markdown, data: JSON.stringify(data) })
        .onConflict((oc) => oc.column('cycle_id').doUpdateSet({ markdown, data: JSON.stringify(data) }))
        .execute();
      return { bytes: markdown.length };
    },
  };
}
