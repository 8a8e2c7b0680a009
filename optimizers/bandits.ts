import {
  sampleWithoutReplacement,
  type Candidate,
  type SearchContext,
  type SearchRequest,
  type SearchResponse,
} from './prompt-search.js';

/**
 * Best-arm identification for ProTeGi's beam selection (LMOps `evaluators.py`): every arm
 * is a candidate prompt, a pull scores it on a fresh sample of train examples. Returns the
 * arms' estimated means; the caller keeps the top `keep`.
 */
export type BanditKind = 'ucb' | 'ucb-e' | 'sr' | 'bf';

export interface BanditSettings {
  kind: BanditKind;
  rounds: number;
  armsPerRound: number;
  samplesPerPull: number;
  c: number;
}

export interface ArmStats {
  sum: number;
  count: number;
  pulls: number;
}

/** UCB score of an arm; unpulled arms come first. `t` is the total pulls so far. */
export function ucbScore(arm: ArmStats, t: number, c: number, variant: 'ucb' | 'ucb-e'): number {
  if (arm.pulls === 0) return Infinity;
  const mean = arm.sum / arm.count;
  const bonus =
    variant === 'ucb' ? c * Math.sqrt(Math.log(Math.max(t, 1)) / arm.pulls) : c * Math.sqrt(c / arm.pulls);
  return mean + bonus;
}

/** The arms to pull next under UCB: highest score first, lower index on ties. */
export function chooseUcbArms(
  arms: readonly ArmStats[],
  count: number,
  t: number,
  c: number,
  variant: 'ucb' | 'ucb-e',
): number[] {
  return arms
    .map((arm, i) => ({ i, s: ucbScore(arm, t, c, variant) }))
    .sort((a, b) => b.s - a.s || a.i - b.i)
    .slice(0, count)
    .map((x) => x.i);
}

/** Audibert's successive-rejects phase lengths n_k for K arms and n pulls. */
export function successiveRejectsSchedule(k: number, n: number): number[] {
  const logBar = 0.5 + Array.from({ length: k - 1 }, (_, i) => 1 / (i + 2)).reduce((s, x) => s + x, 0);
  const out: number[] = [0];
  for (let phase = 1; phase < k; phase++) out.push(Math.ceil((1 / logBar) * ((n - k) / (k + 1 - phase))));
  return out;
}

export function* selectArms(
  ctx: SearchContext,
  arms: readonly Candidate[],
  keep: number,
  settings: BanditSettings,
): Generator<SearchRequest, number[], SearchResponse> {
  const stats: ArmStats[] = arms.map(() => ({ sum: 0, count: 0, pulls: 0 }));
  const trainIds = ctx.setup.trainIds;
  const pull = function* (i: number, samples: number) {
    const ids = sampleWithoutReplacement(ctx.prng, trainIds, samples);
    const scores = yield* ctx.evaluate(arms[i]!, ids, `bandit pull (${settings.kind})`);
    stats[i]!.sum += scores.reduce((s, x) => s + x, 0);
    stats[i]!.count += scores.length;
    stats[i]!.pulls++;
  };
  if (arms.length <= keep && settings.kind !== 'bf') {
    // Nothing to reject: one pull each still gives the beam its scores.
    for (let i = 0; i < arms.length; i++) yield* pull(i, settings.samplesPerPull);
  } else if (settings.kind === 'ucb' || settings.kind === 'ucb-e') {
    let t = 0;
    for (let round = 0; round < settings.rounds; round++) {
      for (const i of chooseUcbArms(
        stats,
        Math.min(settings.armsPerRound, arms.length),
        t,
        settings.c,
        settings.kind,
      )) {
        yield* pull(i, settings.samplesPerPull);
        t++;
      }
    }
  } else if (settings.kind === 'sr') {
    const budget = settings.rounds * settings.armsPerRound;
    const schedule = successiveRejectsSchedule(arms.length, Math.max(budget, arms.length));
    const alive = arms.map((_, i) => i);
    for (let phase = 1; phase < arms.length && alive.length > keep; phase++) {
      const pulls = Math.max(1, schedule[phase]! - schedule[phase - 1]!);
      for (const i of alive) for (let p = 0; p < pulls; p++) yield* pull(i, settings.samplesPerPull);
      let worst = 0;
      for (let j = 1; j < alive.length; j++)
        if (mean(stats[alive[j]!]!) < mean(stats[alive[worst]!]!)) worst = j;
      alive.splice(worst, 1);
    }
  } else {
    const total = settings.rounds * settings.armsPerRound * settings.samplesPerPull;
    const each = Math.max(1, Math.floor(total / arms.length));
    for (let i = 0; i < arms.length; i++) yield* pull(i, each);
  }
  return stats.map(mean);
}

const mean = (a: ArmStats) => (a.count ? a.sum / a.count : -Infinity);
