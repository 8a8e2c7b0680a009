/**
 * Flywheel KPIs: whether the loop makes the agent better, how fast, and at what cost. Pure:
 * the store reads the rows, this turns them into figures, so the arithmetic is unit-tested.
 *
 * Per cycle:
 * - lift: the gate's composite Δ (candidate − production on the eval split, with its interval),
 *   then the online Δ of the success rate in the rollout's last analysis, once traffic decided
 *   (for a rollout without an analysis step: of online evaluation's pass rate per version);
 * - loop time: from the oldest trace the cycle sampled to the moment the candidate became
 *   production (the rollout completed), in hours;
 * - annotation drain: the share of queue items completed, and hours from the queue opening to
 *   its quorum;
 * - measured success: production's and the candidate's composite score on the eval split (the
 *   gate), then their success rates in the rollout's last analysis (live traffic). The true
 *   success rate is known only to a simulator, so this is the measured one;
 * - judge agreement: the judge's Cohen's κ and accuracy against the reviewers' labels, averaged
 *   over the dimensions calibrated in the cycle;
 * - cost: judge spend, optimizer tokens and teacher calls as the stages recorded them.
 * Per agent: the same figures summarised over its cycles, plus the canary success rate: the
 * share of finished rollouts that were promoted rather than rolled back (also per cycle, over
 * the rollouts finished up to that cycle, so it can be drawn as a line).
 */

export interface CycleKpiRow {
  cycleId: string;
  stage: string;
  outcome: string;
  startedAt: Date;
  oldestSampledTraceAt: Date | null;
  gate: {
    verdict: string;
    delta: number | null;
    ci: [number, number] | null;
    /** Composite scores on the eval split; null in reports stored before gate version 2. */
    candidate: number | null;
    baseline: number | null;
  } | null;
  rollout: {
    status: 'running' | 'completed' | 'rolled_back';
    endedAt: Date | null;
    /** The last analysis step's success-rate measurement, when one was recorded. */
    lastSuccessRate: { candidate: number | null; baseline: number | null } | null;
    /**
     * Online evaluation's pass rate of the traces each version served while the rollout ran
     * (the share no evaluator failed); read only for a rollout without a success-rate analysis.
     */
    onlinePassRate?: { candidate: number | null; baseline: number | null } | null;
  } | null;
  annotation: { items: number; complete: number; openedAt: Date; quorumAt: Date | null } | null;
  cost: { judgeCostUsd: number; optimizerTokens: number; teacherCalls: number; rollouts: number };
  /** The cycle's judge calibrations, one per dimension; empty when none was calibrated. */
  calibrations: { labels: number; kappa: number | null; accuracy: number | null }[];
}

export interface CycleKpis {
  cycleId: string;
  outcome: string;
  startedAt: string;
  lift: {
    gateDelta: number | null;
    gateCi: [number, number] | null;
    gateVerdict: string | null;
    /** Success rate, candidate − production, in the rollout's last analysis. */
    onlineDelta: number | null;
  };
  /**
   * Where the online figures (success online, online lift) come from: the rollout's last
   * analysis, or, for a rollout without an analysis step, online evaluation's pass rate of the
   * traces each version served during it; null when neither measured anything.
   */
  onlineFrom: 'rollout_analysis' | 'online_evaluation' | null;
  /** Measured success of production and the candidate: gate (eval split), then live traffic. */
  success: {
    gateProduction: number | null;
    gateCandidate: number | null;
    onlineProduction: number | null;
    onlineCandidate: number | null;
  };
  /** Oldest sampled trace → production label moved; null until a release completes. */
  loopHours: number | null;
  annotation: { items: number; drained: number | null; hoursToQuorum: number | null } | null;
  rollout: 'running' | 'completed' | 'rolled_back' | null;
  /** Promoted ÷ finished rollouts of this and every earlier cycle; null before the first finishes. */
  canarySuccessRateToDate: number | null;
  /** Mean over the calibrated dimensions; null when the cycle calibrated none. */
  judgeAgreement: {
    kappa: number | null;
    accuracy: number | null;
    dimensions: number;
    labels: number;
  } | null;
  cost: CycleKpiRow['cost'];
}

export interface AgentKpis {
  agent: string;
  cycles: number;
  releases: number;
  rollbacks: number;
  /** Promoted ÷ finished rollouts; null when none has finished. */
  canarySuccessRate: number | null;
  meanGateDelta: number | null;
  meanOnlineDelta: number | null;
  medianLoopHours: number | null;
  meanAnnotationDrained: number | null;
  meanJudgeKappa: number | null;
  meanCostPerCycle: { judgeCostUsd: number; optimizerTokens: number; teacherCalls: number } | null;
  perCycle: CycleKpis[];
}

const HOUR_MS = 3_600_000;
const hoursBetween = (from: Date, to: Date) => (to.getTime() - from.getTime()) / HOUR_MS;
const round = (x: number, digits = 4) => Math.round(x * 10 ** digits) / 10 ** digits;

function mean(values: readonly (number | null)[]): number | null {
  const xs = values.filter((v): v is number => v !== null);
  return xs.length ? round(xs.reduce((a, b) => a + b, 0) / xs.length) : null;
}

function median(values: readonly (number | null)[]): number | null {
  const xs = values.filter((v): v is number => v !== null).sort((a, b) => a - b);
  if (!xs.length) return null;
  const mid = Math.floor(xs.length / 2);
  return round(xs.length % 2 ? xs[mid]! : (xs[mid - 1]! + xs[mid]!) / 2);
}

/** One cycle's figures; `canarySuccessRateToDate` needs the cycles before it (see agentKpis). */
export function cycleKpis(row: CycleKpiRow, canarySuccessRateToDate: number | null = null): CycleKpis {
  const analysed = row.rollout?.lastSuccessRate ?? null;
  const evaluated = analysed ? null : (row.rollout?.onlinePassRate ?? null);
  const success = analysed ?? evaluated;
  const onlineDelta =
    success && success.candidate !== null && success.baseline !== null
      ? round(success.candidate - success.baseline)
      : null;
  const released = row.rollout?.status === 'completed' && row.rollout.endedAt !== null;
  const loopHours =
    released && row.oldestSampledTraceAt && row.rollout?.endedAt
      ? round(hoursBetween(row.oldestSampledTraceAt, row.rollout.endedAt), 2)
      : null;
  const a = row.annotation;
  return {
    cycleId: row.cycleId,
    outcome: row.outcome,
    startedAt: row.startedAt.toISOString(),
    lift: {
      gateDelta: row.gate?.delta ?? null,
      gateCi: row.gate?.ci ?? null,
      gateVerdict: row.gate?.verdict ?? null,
      onlineDelta,
    },
    success: {
      gateProduction: row.gate?.baseline ?? null,
      gateCandidate: row.gate?.candidate ?? null,
      onlineProduction: success?.baseline ?? null,
      onlineCandidate: success?.candidate ?? null,
    },
    onlineFrom: analysed ? 'rollout_analysis' : evaluated ? 'online_evaluation' : null,
    loopHours,
    annotation: a
      ? {
          items: a.items,
          drained: a.items > 0 ? round(a.complete / a.items) : null,
          hoursToQuorum: a.quorumAt ? round(hoursBetween(a.openedAt, a.quorumAt), 2) : null,
        }
      : null,
    rollout: row.rollout?.status ?? null,
    canarySuccessRateToDate,
    judgeAgreement: row.calibrations.length
      ? {
          kappa: mean(row.calibrations.map((c) => c.kappa)),
          accuracy: mean(row.calibrations.map((c) => c.accuracy)),
          dimensions: row.calibrations.length,
          labels: row.calibrations.reduce((n, c) => n + c.labels, 0),
        }
      : null,
    cost: row.cost,
  };
}

/** An agent's figures from its cycles' rows, newest first (as the store reads them). */
export function agentKpis(agent: string, rows: readonly CycleKpiRow[]): AgentKpis {
  // The running canary rate goes oldest to newest; the answer keeps the rows' order.
  let promoted = 0;
  let ended = 0;
  const toDate = new Map<CycleKpiRow, number | null>();
  for (const row of [...rows].reverse()) {
    if (row.rollout?.status === 'completed') promoted++;
    if (row.rollout?.status === 'completed' || row.rollout?.status === 'rolled_back') ended++;
    toDate.set(row, ended ? round(promoted / ended) : null);
  }
  const perCycle = rows.map((row) => cycleKpis(row, toDate.get(row) ?? null));
  const releases = perCycle.filter((c) => c.rollout === 'completed').length;
  const rollbacks = perCycle.filter((c) => c.rollout === 'rolled_back').length;
  const finished = releases + rollbacks;
  return {
    agent,
    cycles: perCycle.length,
    releases,
    rollbacks,
    canarySuccessRate: finished ? round(releases / finished) : null,
    meanGateDelta: mean(perCycle.map((c) => c.lift.gateDelta)),
    meanOnlineDelta: mean(perCycle.map((c) => c.lift.onlineDelta)),
    medianLoopHours: median(perCycle.map((c) => c.loopHours)),
    meanAnnotationDrained: mean(perCycle.map((c) => c.annotation?.drained ?? null)),
    meanJudgeKappa: mean(perCycle.map((c) => c.judgeAgreement?.kappa ?? null)),
    meanCostPerCycle: perCycle.length
      ? {
          judgeCostUsd: mean(perCycle.map((c) => c.cost.judgeCostUsd)) ?? 0,
          optimizerTokens: mean(perCycle.map((c) => c.cost.optimizerTokens)) ?? 0,
          teacherCalls: mean(perCycle.map((c) => c.cost.teacherCalls)) ?? 0,
        }
      : null,
    perCycle,
  };
}

/** A plain-text table of the agent's KPIs for `flywheel kpis`. */
export function renderAgentKpis(k: AgentKpis): string {
  const f = (x: number | null, digits = 3) => (x === null ? '—' : x.toFixed(digits));
  const signed = (x: number | null) => (x === null ? '—' : `${x >= 0 ? '+' : ''}${x.toFixed(3)}`);
  const lines = [
    `agent ${k.agent}: ${k.cycles} cycles, ${k.releases} released, ${k.rollbacks} rolled back`,
    `canary success rate ${k.canarySuccessRate === null ? '—' : `${(k.canarySuccessRate * 100).toFixed(0)}%`}` +
      `, mean gate Δ ${signed(k.meanGateDelta)}, mean online Δ ${signed(k.meanOnlineDelta)}` +
      `, median loop ${f(k.medianLoopHours, 1)} h, mean annotation drained ${f(k.meanAnnotationDrained, 2)}` +
      `, mean judge κ ${f(k.meanJudgeKappa, 2)}`,
    k.meanCostPerCycle
      ? `mean cost per cycle: judge $${k.meanCostPerCycle.judgeCostUsd.toFixed(4)}, optimizer ${Math.round(k.meanCostPerCycle.optimizerTokens)} tokens, ${k.meanCostPerCycle.teacherCalls.toFixed(1)} teacher calls`
      : 'no cycles yet',
    '',
    'cycle | outcome | gate Δ [CI] | online Δ | loop h | drained | judge $ | opt tokens',
  ];
  for (const c of k.perCycle) {
    const ci = c.lift.gateCi ? ` [${signed(c.lift.gateCi[0])}, ${signed(c.lift.gateCi[1])}]` : '';
    lines.push(
      `${c.cycleId} | ${c.outcome} | ${signed(c.lift.gateDelta)}${ci} | ${signed(c.lift.onlineDelta)} | ` +
        `${f(c.loopHours, 1)} | ${f(c.annotation?.drained ?? null, 2)} | ${c.cost.judgeCostUsd.toFixed(4)} | ${c.cost.optimizerTokens}`,
    );
  }
  return lines.join('\n');
}
