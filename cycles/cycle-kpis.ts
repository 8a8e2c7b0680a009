/**
 * Flywheel KPIs: whether the loop makes the agent better, how fast, and at what cost. Pure:
 * the store reads the rows, this turns them into figures, so the arithmetic is unit-tested.
 *
 * Per cycle:
 * - lift: the gate's composite Δ (candidate − production on the eval split, with its interval),
 *   then the online Δ of the success rate in the rollout's last analysis, once traffic decided;
 * - loop time: from the oldest trace the cycle sampled to the moment the candidate became
 *   production (the rollout completed), in hours;
 * - annotation drain: the share of queue items completed, and hours from the queue opening to
 *   its quorum;
 * - cost: judge spend, optimizer tokens and teacher calls as the stages recorded them.
 * Per agent: the same figures summarised over its cycles, plus the canary success rate: the
 * share of finished rollouts that were promoted rather than rolled back.
 */

export interface CycleKpiRow {
  cycleId: string;
  stage: string;
  outcome: string;
  startedAt: Date;
  oldestSampledTraceAt: Date | null;
  gate: { verdict: string; delta: number | null; ci: [number, number] | null } | null;
  rollout: {
    status: 'running' | 'completed' | 'rolled_back';
    endedAt: Date | null;
    /** The last analysis step's success-rate measurement, when one was recorded. */
    lastSuccessRate: { candidate: number | null; baseline: number | null } | null;
  } | null;
  annotation: { items: number; complete: number; openedAt: Date; quorumAt: Date | null } | null;
  cost: { judgeCostUsd: number; optimizerTokens: number; teacherCalls: number; rollouts: number };
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
  /** Oldest sampled trace → production label moved; null until a release completes. */
  loopHours: number | null;
  annotation: { items: number; drained: number | null; hoursToQuorum: number | null } | null;
  rollout: 'running' | 'completed' | 'rolled_back' | null;
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

export function cycleKpis(row: CycleKpiRow): CycleKpis {
  const success = row.rollout?.lastSuccessRate;
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
    loopHours,
    annotation: a
      ? {
          items: a.items,
          drained: a.items > 0 ? round(a.complete / a.items) : null,
          hoursToQuorum: a.quorumAt ? round(hoursBetween(a.openedAt, a.quorumAt), 2) : null,
        }
      : null,
    rollout: row.rollout?.status ?? null,
    cost: row.cost,
  };
}

export function agentKpis(agent: string, rows: readonly CycleKpiRow[]): AgentKpis {
  const perCycle = rows.map(cycleKpis);
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
      `, median loop ${f(k.medianLoopHours, 1)} h, mean annotation drained ${f(k.meanAnnotationDrained, 2)}`,
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
