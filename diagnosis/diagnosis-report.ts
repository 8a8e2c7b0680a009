import type { CoachingRecommendation } from './coaching-recommendation.js';

/**
 * The cycle's diagnosis report as markdown: what failed, grouped and classified, what to
 * do about each group, and whether the judge that said so can be trusted. Stored with the
 * cycle and printed by `flywheel cycle show`.
 */
export interface ReportCluster {
  stableId: string;
  name: string;
  size: number;
  noise: number;
  previousId: string | null;
  category: string;
  subtype: string | null;
  intervention: string | null;
  rootCause: string | null;
  immediateFix: string | null;
  failingStep: string | null;
  evidence: string[];
  diagnosisError: string | null;
  /** Coaching that would fix this small, situation-specific cluster (coaching-recommendation.ts); absent: none. */
  coaching?: CoachingRecommendation | null;
}

export interface ReportCalibration {
  dimension: string;
  labels: number;
  accuracy: number | null;
  kappa: number | null;
  f1: number | null;
  canGate: boolean;
  reason: string;
}

export interface DiagnosisReportData {
  cycleId: string;
  agent: string;
  taxonomy: string;
  embedder: string;
  sampled: number;
  scored: number;
  failing: number;
  judgeCalls: number;
  judgeCallsWithoutCascade: number;
  evaluatorErrors: { evaluator: string; count: number; example: string }[];
  clusters: ReportCluster[];
  calibration: ReportCalibration[];
}

const num = (x: number | null, digits = 2) => (x === null ? 'n/a' : x.toFixed(digits));
const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

export function renderDiagnosisReport(d: DiagnosisReportData): string {
  const out: string[] = [`# Diagnosis — cycle ${d.cycleId}`, ''];
  const perTrace = (n: number) => (d.scored === 0 ? '0' : (n / d.scored).toFixed(2));
  out.push(
    `Agent \`${d.agent}\` · ${d.sampled} sampled · ${d.scored} scored · **${d.failing} failing** · ` +
      `judge calls ${d.judgeCalls} (${perTrace(d.judgeCalls)} per trace; ${perTrace(d.judgeCallsWithoutCascade)} without the cascade) · ` +
      `taxonomy ${d.taxonomy} · embedder ${d.embedder}`,
    '',
  );
  if (d.failing === 0) {
    out.push('No failing traces in this sample: there is nothing to cluster or diagnose this cycle.', '');
  } else if (d.clusters.length > 0) {
    out.push(
      '## Failure clusters',
      '',
      '| cluster | name | traces | category / subtype | cheapest fix | since |',
      '|---|---|---:|---|---|---|',
    );
    for (const c of d.clusters) {
      out.push(
        `| \`${c.stableId}\` | ${cell(c.name)} | ${c.size}${c.noise ? ` (+${c.noise} noise)` : ''} | ${c.subtype ? `${c.category} / ${c.subtype}` : c.category} | ${c.intervention ?? '—'} | ${c.previousId ? 'seen before' : 'new'} |`,
      );
    }
    out.push('');
    for (const c of d.clusters) {
      out.push(`### \`${c.stableId}\` ${c.name}`, '');
      if (c.diagnosisError) {
        out.push(`Not diagnosed: ${c.diagnosisError}`, '');
        continue;
      }
      out.push(
        `- **Root cause:** ${c.rootCause ?? '—'}`,
        `- **Failing step:** ${c.failingStep ?? '—'}`,
        `- **Immediate fix (${c.intervention ?? '—'}):** ${c.immediateFix ?? '—'}`,
        `- **Evidence:** ${c.evidence.map((e) => `\`${e}\``).join(', ') || '—'}`,
        '',
      );
    }
    const prompt = d.clusters.filter((c) => c.intervention === 'prompt');
    const other = d.clusters.filter((c) => c.intervention !== 'prompt');
    out.push(
      '## What happens next',
      '',
      prompt.length
        ? `- To the prompt optimizer: ${prompt.map((c) => `\`${c.stableId}\``).join(', ')}.`
        : '- No cluster is fixable by a prompt change: the optimizer has nothing to work on this cycle.',
    );
    for (const c of other) {
      out.push(
        c.intervention
          ? `- Recommendation for \`${c.stableId}\` (${c.intervention}): ${c.immediateFix ?? c.rootCause ?? c.name}`
          : `- \`${c.stableId}\` needs a manual diagnosis (${c.diagnosisError ?? 'no diagnosis'}).`,
      );
      // The traces reviewers correct in this cluster become training data (the agent's
      // fine-tune dataset); say how to get the file, since no cycle acts on it.
      if (c.intervention === 'fine_tune')
        out.push(
          `  Training data: once reviewers have corrected its traces, \`flywheel dataset export ${d.agent}/fine-tune --format openai-sft --cluster ${c.stableId} --out ${c.stableId}.jsonl\` (or \`--format openai-dpo\` for preference pairs, \`hf-chat\` for Hugging Face trainers).`,
        );
    }
    for (const c of d.clusters) {
      if (!c.coaching) continue;
      const k = c.coaching;
      out.push(
        `- Coaching for \`${c.stableId}\`: its ${k.failures} failures share one situation (each request at similarity ≥ ${k.minSimilarity} to it, recalled from ${k.threshold}), so a coaching fixes them without changing the prompt elsewhere${c.intervention === 'prompt' ? ' (the cluster still goes to the optimizer)' : ''}: \`${k.command}\`${k.itemId === null ? ', once you know what the agent should have done' : ''}.`,
      );
    }
    out.push('');
  }
  if (d.evaluatorErrors.length > 0) {
    out.push('## Evaluator errors', '', '| evaluator | traces | example |', '|---|---:|---|');
    for (const e of d.evaluatorErrors)
      out.push(`| ${e.evaluator} | ${e.count} | ${cell(e.example.slice(0, 160))} |`);
    out.push('');
  }
  out.push('## Judge agreement with reviewers', '');
  if (d.calibration.length === 0) {
    out.push('No human labels yet this cycle; agreement is measured after annotation.', '');
  } else {
    out.push(
      '| dimension | labels | accuracy | Cohen κ | F1 (fail) | may gate |',
      '|---|---:|---:|---:|---:|---|',
    );
    for (const c of d.calibration) {
      out.push(
        `| ${c.dimension} | ${c.labels} | ${num(c.accuracy)} | ${num(c.kappa)} | ${num(c.f1)} | ${c.canGate ? 'yes' : `no — ${cell(c.reason)}`} |`,
      );
    }
    out.push('');
  }
  return out.join('\n');
}
