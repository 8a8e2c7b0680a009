import { cancellationSignal, heartbeat } from '@temporalio/activity';
import { centroid } from '../diagnosis/vector-math.js';
import { assignClusterIds } from '../diagnosis/cluster-identity.js';
import { nameClusters } from '../diagnosis/cluster-naming.js';
import { failureText, type FailedEvaluation } from '../diagnosis/failure-text.js';
import { findSubtype, type FailureTaxonomy } from '../diagnosis/failure-taxonomy.js';
import { diagnosisJsonSchema } from '../diagnosis/diagnosis-schema.js';
import { clusterFailures } from '../diagnosis/failure-clustering.js';
import { tfidfEmbeddings } from '../diagnosis/text-embedding.js';
import { agentConfig } from '../registry/store/agent-repository.js';
import {
  clusterMembers,
  clusterStableIds,
  lastClusteredCycle,
  saveCluster,
  stableClusters,
} from '../diagnosis/store/cluster-repository.js';
import { failingScores } from '../evaluation/store/score-repository.js';
import { sampledTraces } from '../traces/store/sample-repository.js';
import type { ChatMessageIn } from '../llm/llm-client.js';
import {
  DIAGNOSIS_SYSTEM,
  diagnosisRepairPrompt,
  diagnosisUserPrompt,
  renderSteps,
  renderTranscript,
} from '../llm/prompt-templates.js';
import { CLUSTER_DIAGNOSIS_SCHEMA, checkStructured, type Checked } from '../llm/structured-output.js';
import { ClusterDiagnosis } from '../schemas/llm-outputs.js';
import type { TraceRecord } from '../schemas/trace.js';
import type { ActivityDeps } from './activity-deps.js';
import { traceVerdicts } from './cycle-verdicts.js';
import { judgedSteps } from '../evaluation/agent-trajectory.js';

/** The per-cycle row of a cluster; its stable id is what survives across cycles. */
export const clusterId = (cycleId: string, stableId: string) => `${cycleId}:${stableId}`;
export const LOCAL_EMBEDDER = 'local:hashed-tfidf';
/** Members shown to the teacher per cluster: the most central ones. */
const SHOWN_MEMBERS = 6;

export interface ClusterSummary {
  id: string;
  stableId: string;
  name: string;
  size: number;
  noise: number;
  category: string;
  subtype: string | null;
  intervention: string | null;
  isNew: boolean;
}

interface Grouped {
  members: { traceId: string; probability: number; noise: boolean }[];
  centroid: number[];
  texts: string[];
}

export function createDiagnoseActivities({ db, llm, taxonomy }: ActivityDeps) {
  return {
    /**
     * Failing traces → embeddings (the embedder role, else a local hashed TF-IDF) →
     * HDBSCAN. Noise points are attached to their nearest cluster, flagged, so none is
     * lost; if nothing is dense enough, all failures form one cluster. Each cluster keeps
     * the id of last cycle's cluster it matches (centroid similarity or member overlap),
     * is named from its members and diagnosed by the teacher against the taxonomy.
     */
    async diagnoseFailures(args: {
      cycleId: string;
      agent: string;
      seed: number;
    }): Promise<{ failing: number; clusters: ClusterSummary[]; embedder: string }> {
      const config = (await agentConfig(db, args.agent)).evaluation;
      const verdicts = await traceVerdicts(db, args.cycleId, config.cascade.minCodeConfidence);
      const failingIds = new Set([...verdicts].filter(([, v]) => v.failing).map(([id]) => id));
      const traces = (await sampledTraces(db, args.cycleId)).filter((t) => failingIds.has(t.id));
      if (traces.length === 0) return { failing: 0, clusters: [], embedder: 'none' };
      const failed = await failedEvaluations(
        args.cycleId,
        traces.map((t) => t.id),
      );
      const texts = traces.map((t) => failureText(t, failed.get(t.id) ?? []));

      let embedder = LOCAL_EMBEDDER;
      let vectors: number[][];
      if (llm.embedder) {
        vectors = [];
        for (let i = 0; i < texts.length; i += 256) {
          vectors.push(...(await llm.embedder.embed(texts.slice(i, i + 256), cancellationSignal())));
          heartbeat({ embedded: vectors.length });
        }
        embedder = `model:${llm.embedder.model}`;
      } else {
        vectors = tfidfEmbeddings(texts);
      }

      const ordered: Grouped[] = clusterFailures(vectors, config.clustering).map((g) => ({
        members: g.members.map((i, k) => ({
          traceId: traces[i]!.id,
          probability: g.probabilities[k]!,
          noise: g.noise[k]!,
        })),
        centroid: centroid(g.members.map((i) => vectors[i]!)),
        texts: g.members.map((i) => texts[i]!),
      }));

      const previous = await previousClusters(args.agent, args.cycleId, embedder);
      const identities = assignClusterIds(
        previous.clusters,
        ordered.map((g) => ({ centroid: g.centroid, members: g.members.map((m) => m.traceId) })),
        {
          minSimilarity: config.clustering.matchSimilarity,
          minOverlap: config.clustering.matchOverlap,
          newId: (i) => `${args.agent}-fc${String(previous.nextNumber + i).padStart(3, '0')}`,
        },
      );
      const names = nameClusters(ordered.map((g) => g.texts));
      const byId = new Map(traces.map((t) => [t.id, t]));

      const summaries: ClusterSummary[] = [];
      for (const [i, g] of ordered.entries()) {
        const identity = identities[i]!;
        const core = g.members.filter((m) => !m.noise);
        const shown = [...g.members]
          .sort((a, b) => b.probability - a.probability || a.traceId.localeCompare(b.traceId))
          .slice(0, SHOWN_MEMBERS);
        const diagnosis = await diagnose(
          { name: names[i]!, size: g.members.length },
          shown.map((m) => byId.get(m.traceId)!),
          failed,
          taxonomy,
          args.seed,
        );
        const id = clusterId(args.cycleId, identity.id);
        const category = diagnosis.ok ? diagnosis.value.category : 'undiagnosed';
        await saveCluster(
          db,
          {
            id,
            cycle_id: args.cycleId,
            agent_id: args.agent,
            stable_id: identity.id,
            name: names[i]!,
            category,
            size: g.members.length,
            centroid: JSON.stringify(g.centroid),
            embedder,
            previous_id: identity.previousId,
            diagnosis: diagnosis.ok ? JSON.stringify(diagnosis.value) : null,
            diagnosis_error: diagnosis.ok ? null : diagnosis.error,
            intervention: diagnosis.ok ? diagnosis.value.intervention : null,
          },
          g.members.map((m) => ({ trace_id: m.traceId, probability: m.probability, noise: m.noise })),
        );
        summaries.push({
          id,
          stableId: identity.id,
          name: names[i]!,
          size: core.length,
          noise: g.members.length - core.length,
          category,
          subtype: diagnosis.ok ? diagnosis.value.subtype : null,
          intervention: diagnosis.ok ? diagnosis.value.intervention : null,
          isNew: identity.previousId === null,
        });
        heartbeat({ diagnosed: summaries.length, of: ordered.length });
      }
      summaries.sort((a, b) => b.size + b.noise - (a.size + a.noise) || a.stableId.localeCompare(b.stableId));
      return { failing: traces.length, clusters: summaries, embedder };
    },
  };

  /** Failing evaluations per trace (the deciding ones and any other failing check). */
  async function failedEvaluations(cycleId: string, traceIds: string[]) {
    const rows = await failingScores(db, cycleId, traceIds);
    const out = new Map<string, FailedEvaluation[]>();
    for (const r of rows) {
      const list = out.get(r.trace_id) ?? [];
      list.push({ ...r, findings: (r.findings ?? []) as unknown as FailedEvaluation['findings'] });
      out.set(r.trace_id, list);
    }
    return out;
  }

  /**
   * The latest earlier cycle's clusters of this agent (same embedder: vectors of two
   * embedders are not comparable, overlap still is), and the next free cluster number.
   */
  async function previousClusters(agent: string, cycleId: string, embedder: string) {
    // Only the numbers of every earlier cluster; centroids and members of the last cycle's alone.
    const ids = await clusterStableIds(db, agent, cycleId);
    const nextNumber = Math.max(0, ...ids.map((c) => Number(/(\d+)$/.exec(c.stable_id ?? '')?.[1] ?? 0))) + 1;
    const last = await lastClusteredCycle(db, agent, cycleId);
    if (last === undefined) return { clusters: [], nextNumber };
    const rows = await stableClusters(db, last);
    if (rows.length === 0) return { clusters: [], nextNumber };
    const members = await clusterMembers(
      db,
      rows.map((r) => r.id),
    );
    return {
      nextNumber,
      clusters: rows.map((r) => ({
        id: r.stable_id!,
        centroid: r.embedder === embedder && Array.isArray(r.centroid) ? r.centroid : [],
        members: members.filter((m) => m.cluster_id === r.id).map((m) => m.trace_id),
      })),
    };
  }

  /**
   * The teacher's diagnosis, checked against its schema and the taxonomy (a subtype of the
   * named category, evidence from the traces shown). One repair round with the error, then
   * the cluster is recorded as undiagnosed with that error.
   */
  async function diagnose(
    cluster: { name: string; size: number },
    shown: TraceRecord[],
    failed: Map<string, FailedEvaluation[]>,
    tax: FailureTaxonomy,
    seed: number,
  ): Promise<Checked<ClusterDiagnosis>> {
    const members = shown.map((t) => ({
      traceId: t.id,
      transcript: renderTranscript(t.input.messages),
      steps: renderSteps(judgedSteps(t)),
      failures:
        (failed.get(t.id) ?? []).map((f) => `${f.dimension}: ${f.explanation}`).join('; ') || 'failed',
    }));
    const base: ChatMessageIn[] = [
      { role: 'system', content: DIAGNOSIS_SYSTEM },
      { role: 'user', content: diagnosisUserPrompt(cluster, members, tax.subtypes) },
    ];
    const shownIds = new Set(shown.map((t) => t.id));
    const check = (content: string | null): Checked<ClusterDiagnosis> => {
      const parsed = checkStructured(ClusterDiagnosis, content);
      if (!parsed.ok) return parsed;
      const d = parsed.value;
      if (!findSubtype(tax, d.category, d.subtype)) {
        return {
          ok: false,
          error: `"${d.category} / ${d.subtype}" is not in the taxonomy ${tax.name} ${tax.version}`,
        };
      }
      const unknown = d.evidence_trace_ids.filter((id) => !shownIds.has(id));
      if (unknown.length > 0)
        return { ok: false, error: `evidence cites traces not shown: ${unknown.join(', ')}` };
      return { ok: true, value: d };
    };
    const shownSteps = shown.map((t) => judgedSteps(t));
    const jsonSchema = diagnosisJsonSchema(CLUSTER_DIAGNOSIS_SCHEMA, tax, [...shownIds], {
      last: Math.max(0, ...shownSteps.map((s) => s.length - 1)),
      spanIds: shown.flatMap((t) => t.spans.map((s) => s.spanId)),
    });
    const ask = async (messages: ChatMessageIn[]) =>
      (await llm.teacher.chat({ messages, jsonSchema, temperature: 0, seed }, cancellationSignal())).content;
    const first = await ask(base);
    const one = check(first);
    if (one.ok) return one;
    const second = check(
      await ask([
        ...base,
        { role: 'assistant', content: first ?? '' },
        { role: 'user', content: diagnosisRepairPrompt(one.error) },
      ]),
    );
    return second.ok ? second : { ok: false, error: `${one.error}; after the retry: ${second.error}` };
  }
}
