import type { CycleStatus } from '../schemas/cycle-status.js';

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

/** Markdown for the Temporal UI's "current details": the story of the cycle so far. */
export function renderCycleDetails(s: CycleStatus): string {
  const lines = [
    `## Cycle ${s.cycleId} — agent \`${s.agent}\``,
    `**Stage:** ${s.stage} · **Outcome:** ${s.outcome}`,
    '',
  ];
  if (s.sample)
    lines.push(
      `- **Sample:** ${s.sample.sampled} traces (${s.sample.negative} negative feedback, ${s.sample.random} random)`,
    );
  if (s.scoring)
    lines.push(
      `- **Score:** ${s.scoring.scored} scored, ${s.scoring.failing} failing, ${s.scoring.judgeCalls} judge calls (${s.scoring.judgeCallsWithoutCascade} without the cascade)${s.scoring.evaluatorErrors ? `, ${s.scoring.evaluatorErrors} evaluator errors` : ''}`,
    );
  if (s.clusters && s.stages.some((st) => st.stage === 'diagnosing')) {
    if (s.clusters.length === 0) lines.push('- **Diagnose:** no failures to cluster');
    else {
      lines.push(
        `- **Diagnose:** ${s.clusters.length} failure clusters`,
        '',
        '| cluster | name | traces | category | fix |',
        '|---|---|---:|---|---|',
        ...s.clusters.map(
          (c) =>
            `| \`${c.stableId}\`${c.isNew ? ' (new)' : ''} | ${c.name} | ${c.size} | ${c.category} | ${c.intervention ?? '—'} |`,
        ),
        '',
      );
    }
  }
  if (s.calibration?.length)
    lines.push(
      `- **Judge agreement:** ${s.calibration
        .map(
          (c) =>
            `${c.dimension} κ ${c.kappa === null ? 'n/a' : c.kappa.toFixed(2)} on ${c.labels}${c.canGate ? '' : ' (cannot gate)'}`,
        )
        .join(', ')}`,
    );
  if (s.annotation)
    lines.push(
      `- **Annotation:** ${s.annotation.labelled}/${s.annotation.items} labelled, decided by ${s.annotation.decidedBy}${s.annotation.reminders ? `, ${s.annotation.reminders} reminder(s)` : ''}${s.annotation.escalated ? ', escalated' : ''}`,
    );
  if (s.dataset)
    lines.push(
      `- **Dataset:** ${s.dataset.datasetVersionId} (${s.dataset.train} train / ${s.dataset.eval} eval / ${s.dataset.holdout ?? 0} holdout)`,
    );
  if (s.optimization) {
    const o = s.optimization;
    lines.push(
      `- **Optimize (${o.optimizer}):** best ${o.bestCandidateId ?? 'none'} ${pct(o.bestScore)} vs production ${pct(o.baselineScore)} on train, ${o.rollouts} rollouts, ${o.teacherCalls} teacher calls; stopped: ${o.stopReason}`,
    );
    for (const w of o.warnings ?? []) lines.push(`  - warning: ${w}`);
  }
  if (s.gate)
    lines.push(
      `- **Gate:** ${s.gate.verdict === 'pass' ? 'passed' : `${s.gate.verdict === 'fail' ? 'failed' : 'inconclusive'} on \`${s.gate.failingAssertion}\``} (report ${s.gate.reportId})`,
    );
  for (const a of s.gate?.assertions ?? [])
    lines.push(
      `  - ${a.passed ? 'pass' : a.inconclusive ? 'inconclusive' : 'FAIL'} \`${a.name}\`: ${a.detail}`,
    );
  if (s.approval)
    lines.push(
      `- **Approval:** ${s.approval.decision}${s.approval.by ? ` by ${s.approval.by}` : ''}${s.approval.required && s.approval.required > 1 ? ` (${s.approval.approvers?.length ?? 0}/${s.approval.required} approvals)` : ''}${s.approval.reason ? ` — ${s.approval.reason}` : ''}`,
    );
  if (s.rollout)
    lines.push(
      `- **Rollout:** ${s.rollout.status} at ${s.rollout.weight}%${s.rollout.reason ? ` — ${s.rollout.reason}` : ''} (\`flywheel rollout status ${s.rollout.rolloutId}\`)`,
    );
  if (s.clusters) lines.push('', `Full diagnosis: \`npm run flywheel -- cycle show ${s.cycleId}\``);
  if (s.stage === 'awaiting_annotation')
    lines.push(
      '',
      `Next: \`npm run flywheel -- queue show ${s.cycleId}\`, then \`annotate ITEM\` or \`annotate --file labels.json\``,
    );
  if (s.stage === 'awaiting_approval')
    lines.push('', `Next: \`npm run flywheel -- approve ${s.cycleId} --approver you@example.com\``);
  return lines.join('\n');
}
